"""The webhook POST client over TLS: the certificate and name checked, SNI sent; a TLS server on 127.0.0.1.

The certificates are made here (a private CA and leaf certificates for names that resolve, through an injected
resolver, to 127.0.0.1); nothing leaves the loopback interface.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shared.outbound.policy import AddressPolicy, parse_networks
from shared.outbound.post import POST_ERRORS, PinnedPoster, error_kind

pytestmark = pytest.mark.integration

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
NAME = "hooks.example.test"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    signer: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
    return builder.sign(signer, hashes.SHA256())


class Pki:
    """A private CA and a leaf certificate (with its key) for each name asked for, as PEM files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca = _cert("Newswatch test CA", self.ca_key, "Newswatch test CA", self.ca_key, ca=True)
        self.ca_file = folder / "ca.pem"
        self.ca_file.write_bytes(self.ca.public_bytes(serialization.Encoding.PEM))

    def leaf(self, name: str) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(name, key, "Newswatch test CA", self.ca_key, ca=False)
        cert_file, key_file = self.folder / f"{name}.pem", self.folder / f"{name}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return cert_file, key_file


def _read_request(conn: socket.socket) -> bytes | None:
    """One request (head and Content-Length body), or None when the client closed the connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body


class TlsServer:
    """Serves TLS on 127.0.0.1 with one certificate; records the SNI names and the requests it read."""

    def __init__(self, cert_file: Path, key_file: Path) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert_file, key_file)
        self.sni: list[str | None] = []
        self.context.sni_callback = lambda sock, name, ctx: self.sni.append(name)  # type: ignore[assignment,func-returns-value]
        self.requests: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                while (request := _read_request(tls)) is not None:
                    self.requests.append(request)
                    tls.sendall(OK)
        except OSError:  # ssl.SSLError too: the client refused the handshake or closed the connection
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


@pytest.fixture
def servers() -> Iterator[list[TlsServer]]:
    made: list[TlsServer] = []
    yield made
    for s in made:
        s.close()


def _poster(trust: Path | None) -> PinnedPoster:
    """A poster whose NAME resolves to 127.0.0.1; `trust` replaces the default trust store with one CA."""
    policy = AddressPolicy(
        allowed_networks=parse_networks("127.0.0.0/8"), resolver=lambda host, port: ["127.0.0.1"]
    )
    poster = PinnedPoster(policy, timeout=5, read_limit=4096)
    if trust is not None:
        ctx = poster.tls_context()  # the production context (verification on, the sender's socket class)
        ctx.load_verify_locations(cafile=str(trust))
    return poster


def test_https_post_sends_the_name_as_sni_and_host_and_checks_the_certificate(
    pki: Pki, servers: list[TlsServer]
) -> None:
    server = TlsServer(*pki.leaf(NAME))
    servers.append(server)
    poster = _poster(pki.ca_file)
    got = poster.post(f"https://{NAME}:{server.port}/in", b"x", {"webhook-id": "msg_1"})
    poster.close()
    assert got.status_code == 200 and got.body == b"ok"
    assert server.sni == [NAME]
    assert f"Host: {NAME}:{server.port}\r\n" in server.requests[0].decode()


def test_a_certificate_nobody_trusts_is_refused_before_the_request_is_sent(
    pki: Pki, servers: list[TlsServer]
) -> None:
    server = TlsServer(*pki.leaf(NAME))
    servers.append(server)
    poster = _poster(None)  # the default trust store does not know the test CA
    with pytest.raises(POST_ERRORS) as caught:
        poster.post(f"https://{NAME}:{server.port}/in", b"secret body", {})
    poster.close()
    assert isinstance(caught.value, ssl.SSLCertVerificationError)
    assert error_kind(caught.value) == "protocol"
    assert server.requests == []


def test_a_certificate_for_another_name_is_refused(pki: Pki, servers: list[TlsServer]) -> None:
    server = TlsServer(*pki.leaf("other.example.test"))
    servers.append(server)
    poster = _poster(pki.ca_file)  # the CA is trusted; the name is not the certificate's
    with pytest.raises(ssl.SSLCertVerificationError, match=r"(?i)hostname"):
        poster.post(f"https://{NAME}:{server.port}/in", b"secret body", {})
    poster.close()
    assert server.requests == []
