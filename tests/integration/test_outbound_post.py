"""The webhook POST client (shared/outbound/post.py) against scripted raw servers on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from shared.outbound.policy import AddressPolicy, UnsafeURLError, parse_networks
from shared.outbound.post import PinnedPoster

pytestmark = pytest.mark.integration

LOCAL = AddressPolicy(allowed_networks=parse_networks("127.0.0.0/8"))
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Seen: yes\r\n\r\nok"


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
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body


class RawServer:
    """Accepts connections; `serve(conn, n)` answers the n-th connection (0-based) however the test says."""

    def __init__(self, serve: Callable[[socket.socket, int], None]) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.requests: list[bytes] = []
        self._serve = serve
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            n, self.connections = self.connections, self.connections + 1
            threading.Thread(target=self._run, args=(conn, n), daemon=True).start()

    def _run(self, conn: socket.socket, n: int) -> None:
        with conn:
            self._serve(conn, n)

    def keep_alive(self, conn: socket.socket, answer: bytes = OK) -> None:
        """Answer every request on the connection with `answer` until the client closes it."""
        try:
            while (req := _read_request(conn)) is not None:
                self.requests.append(req)
                conn.sendall(answer)
        except OSError:  # the client closed the connection mid-answer (a capped read)
            pass

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def servers() -> Iterator[list[RawServer]]:
    made: list[RawServer] = []
    yield made
    for s in made:
        s.close()


def _server(made: list[RawServer], serve: Callable[[RawServer, socket.socket, int], None]) -> RawServer:
    holder: list[RawServer] = []
    server = RawServer(lambda conn, n: serve(holder[0], conn, n))
    holder.append(server)
    made.append(server)
    return server


def test_posts_reuse_one_connection_and_send_host_and_body(servers: list[RawServer]) -> None:
    server = _server(servers, lambda s, conn, n: s.keep_alive(conn))
    poster = PinnedPoster(LOCAL, timeout=5, read_limit=4096)
    for i in range(3):
        got = poster.post(server.url("/hook?x=1"), f"body{i}".encode(), {"webhook-id": "msg_1"})
        assert got.status_code == 200 and got.body == b"ok" and got.headers["x-seen"] == "yes"
    poster.close()
    assert server.connections == 1
    assert len(server.requests) == 3
    first = server.requests[0].decode()
    assert first.startswith("POST /hook?x=1 HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}\r\n" in first and "webhook-id: msg_1\r\n" in first
    assert [r.endswith(f"body{i}".encode()) for i, r in enumerate(server.requests)] == [True] * 3


def test_slow_drip_answer_is_cut_by_the_total_deadline(servers: list[RawServer]) -> None:
    def drip(s: RawServer, conn: socket.socket, n: int) -> None:
        _read_request(conn)
        try:
            for byte in OK:  # each byte well within the socket timeout; the whole answer far beyond it
                conn.sendall(bytes([byte]))
                time.sleep(0.2)
        except OSError:
            pass

    server = _server(servers, drip)
    poster = PinnedPoster(LOCAL, timeout=1.0, read_limit=4096)
    with pytest.raises(TimeoutError):
        poster.post(server.url(), b"x", {})
    poster.close()


def test_answer_over_the_cap_is_cut_and_its_connection_not_reused(servers: list[RawServer]) -> None:
    big = b"HTTP/1.1 503 Busy\r\nRetry-After: 30\r\nContent-Length: 100000\r\n\r\n" + b"y" * 100_000
    server = _server(servers, lambda s, conn, n: s.keep_alive(conn, big))
    poster = PinnedPoster(LOCAL, timeout=5, read_limit=4096)
    first = poster.post(server.url(), b"x", {})
    assert first.status_code == 503 and first.body == b"y" * 4096 and first.headers["retry-after"] == "30"
    poster.post(server.url(), b"x", {})
    poster.close()
    assert server.connections == 2


def test_connection_closed_by_the_server_while_idle_is_replaced(servers: list[RawServer]) -> None:
    def once(s: RawServer, conn: socket.socket, n: int) -> None:
        req = _read_request(conn)
        if req is not None:
            s.requests.append(req)
            conn.sendall(OK)  # keep-alive answer, then the server closes the connection anyway

    server = _server(servers, once)
    poster = PinnedPoster(LOCAL, timeout=5, read_limit=4096)
    assert poster.post(server.url(), b"a", {}).status_code == 200
    time.sleep(0.2)  # the close reaches the client
    assert poster.post(server.url(), b"b", {}).status_code == 200
    poster.close()
    assert server.connections == 2 and len(server.requests) == 2


def test_redirect_is_an_answer_not_followed(servers: list[RawServer]) -> None:
    moved = b"HTTP/1.1 302 Found\r\nLocation: http://10.0.0.1/\r\nContent-Length: 0\r\n\r\n"
    server = _server(servers, lambda s, conn, n: s.keep_alive(conn, moved))
    poster = PinnedPoster(LOCAL, timeout=5, read_limit=4096)
    got = poster.post(server.url(), b"x", {})
    poster.close()
    assert got.status_code == 302 and got.headers["location"] == "http://10.0.0.1/"
    assert len(server.requests) == 1


def test_refused_address_is_never_connected(servers: list[RawServer]) -> None:
    server = _server(servers, lambda s, conn, n: s.keep_alive(conn))
    poster = PinnedPoster(AddressPolicy(), timeout=5, read_limit=4096)
    with pytest.raises(UnsafeURLError):
        poster.post(server.url(), b"x", {})
    with pytest.raises(UnsafeURLError):
        poster.post(f"ftp://127.0.0.1:{server.port}/", b"x", {})
    poster.close()
    assert server.connections == 0


def test_named_host_connects_to_the_checked_address_with_its_name(servers: list[RawServer]) -> None:
    server = _server(servers, lambda s, conn, n: s.keep_alive(conn))
    pinned = AddressPolicy(
        allowed_networks=parse_networks("127.0.0.0/8"), resolver=lambda host, port: ["127.0.0.1"]
    )
    poster = PinnedPoster(pinned, timeout=5, read_limit=4096)
    assert poster.post(f"http://hooks.example.test:{server.port}/in", b"x", {}).status_code == 200
    poster.close()
    assert f"Host: hooks.example.test:{server.port}\r\n" in server.requests[0].decode()
