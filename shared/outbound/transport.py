"""httpx transport that resolves once, checks the address policy, and connects to the checked address.

`PinnedTransport(policy)` is usable directly by any httpx client (webhook delivery uses it with
`follow_redirects=False`). Each request is resolved through the `AddressPolicy`; the URL is rewritten to
the checked IP, the Host header keeps the name, and for https the `sni_hostname` extension carries the name
so TLS verifies the certificate against it. No second DNS lookup happens, so DNS rebinding cannot move a
connection to a private address after the check.

The default inner transport is a small httpcore pool whose network streams honour a total deadline
(`total_deadline(seconds)`): every socket read/write/connect gets at most the time left, so a server that
sends one byte a second cannot keep a request alive past the deadline, headers included.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import time
import typing
from collections import OrderedDict
from collections.abc import Iterable, Iterator

import httpcore
import httpx

from shared.outbound.policy import AddressPolicy

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("nw_fetch_deadline", default=None)
_MAX_TLS_POOLS = 64


@contextlib.contextmanager
def total_deadline(seconds: float | None) -> Iterator[None]:
    """Bound every socket operation inside the block by one monotonic deadline (None: no bound)."""
    if seconds is None:
        yield
        return
    new = time.monotonic() + seconds
    current = _DEADLINE.get()
    token = _DEADLINE.set(new if current is None else min(current, new))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _clamp(timeout: float | None, exc: type[Exception]) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise exc("total deadline exceeded")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(tls)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _clamp(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


# httpcore → httpx exception names, so callers of PinnedTransport see ordinary httpx errors.
_EXC_MAP: list[tuple[type[Exception], type[httpx.TransportError]]] = [
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.TimeoutException, httpx.TimeoutException),
]


@contextlib.contextmanager
def _mapped(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except httpcore.TimeoutException as exc:
        raise _translate(exc, request) from exc
    except Exception as exc:
        if type(exc).__module__.startswith("httpcore"):
            raise _translate(exc, request) from exc
        raise


def _translate(exc: Exception, request: httpx.Request) -> Exception:
    for core_cls, httpx_cls in _EXC_MAP:
        if isinstance(exc, core_cls):
            return httpx_cls(str(exc) or core_cls.__name__, request=request)
    return httpx.TransportError(str(exc), request=request)


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, inner: Iterable[bytes], request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        with _mapped(self._request):
            yield from self._inner

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


class DeadlineHTTPTransport(httpx.BaseTransport):
    """Plain HTTP/1.1 transport on httpcore whose sockets honour `total_deadline`.

    TLS connections are pooled per SNI name: a connection verified for one name is never reused for another
    name that happens to share an IP address.
    """

    def __init__(self, *, verify: bool = True, max_connections: int = 20, keepalive: int = 10) -> None:
        self._ssl = httpx.create_ssl_context(verify=verify, trust_env=False)
        self._limits = (max_connections, keepalive)
        self._backend = _DeadlineBackend()
        self._pools: OrderedDict[str, httpcore.ConnectionPool] = OrderedDict()

    def _pool(self, key: str) -> httpcore.ConnectionPool:
        pool = self._pools.get(key)
        if pool is None:
            pool = httpcore.ConnectionPool(
                ssl_context=self._ssl,
                max_connections=self._limits[0],
                max_keepalive_connections=self._limits[1],
                keepalive_expiry=30.0,
                network_backend=self._backend,
            )
            self._pools[key] = pool
            while len(self._pools) > _MAX_TLS_POOLS:
                _, old = self._pools.popitem(last=False)
                old.close()
        else:
            self._pools.move_to_end(key)
        return pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request; no redirects, no DNS beyond what the URL host literally says."""
        assert isinstance(request.stream, httpx.SyncByteStream)
        sni = request.extensions.get("sni_hostname") or request.url.host
        key = "" if request.url.scheme == "http" else str(sni)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _mapped(request):
            resp = self._pool(key).handle_request(core_request)
        assert isinstance(resp.stream, Iterable)
        return httpx.Response(
            status_code=resp.status,
            headers=resp.headers,
            stream=_ResponseStream(resp.stream, request),
            extensions=resp.extensions,
        )

    def close(self) -> None:
        """Close every pooled connection."""
        while self._pools:
            _, pool = self._pools.popitem()
            pool.close()


class PinnedTransport(httpx.BaseTransport):
    """Resolve, check against the policy, and connect to the checked address (raises UnsafeURLError)."""

    def __init__(
        self, policy: AddressPolicy, *, inner: httpx.BaseTransport | None = None, verify: bool = True
    ) -> None:
        self.policy = policy
        self._inner = inner if inner is not None else DeadlineHTTPTransport(verify=verify)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Check the request's host, then hand the request to the inner transport aimed at the checked IP."""
        host, _port, addresses = self.policy.resolve(str(request.url))
        ip = addresses[0]
        extensions = dict(request.extensions)
        if request.url.scheme == "https":
            extensions["sni_hostname"] = host
        headers = httpx.Headers(request.headers)
        if "host" not in headers:
            headers["Host"] = request.url.netloc.decode("ascii")
        try:
            is_literal = ipaddress.ip_address(host) is not None
        except ValueError:
            is_literal = False
        url = request.url if is_literal else request.url.copy_with(host=ip)
        pinned = httpx.Request(
            request.method, url, headers=headers, stream=request.stream, extensions=extensions
        )
        return self._inner.handle_request(pinned)

    def close(self) -> None:
        """Close the inner transport."""
        self._inner.close()
