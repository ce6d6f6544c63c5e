"""Safe HTTP clients: `HttpClient` for feeds, pages and sitemaps (address policy on every hop, timeouts, size
caps, conditional GET), and `pinned_client` for one-shot requests (WebSub hubs, webhooks).

Exceptions (all raised by `HttpClient.get`; catch `FetchError` for "this fetch failed"):
    FetchError                      base (defined in shared.outbound.policy)
      ├─ UnsafeURLError             scheme or resolved address refused (BadSchemeError, BlockedAddressError)
      ├─ TooLarge                   body or decompressed body over the cap (gzip bomb, endless body)
      ├─ Timeout                    connect/read timeout or the total deadline passed (slow-drip server)
      ├─ TooManyRedirects           redirect limit reached (loops included), or a redirect without Location
      ├─ HTTPStatusError            final status >= 400; carries `status` and `retry_after` (seconds)
      ├─ ConnectionFailed           refused, reset, protocol violation
      └─ DecodingError              a Content-Encoding we cannot or will not decode, or corrupt compression
"""

from __future__ import annotations

import email.utils
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

import httpx

from shared.outbound.policy import (
    AddressPolicy,
    BadSchemeError,
    BlockedAddressError,
    FetchError,
    UnsafeURLError,
)
from shared.outbound.transport import PinnedTransport, total_deadline

__all__ = [
    "BadSchemeError",
    "BlockedAddressError",
    "ConnectionFailed",
    "DecodingError",
    "FetchError",
    "FetchLimits",
    "FetchResult",
    "HTTPStatusError",
    "HttpClient",
    "Timeout",
    "TooLarge",
    "TooManyRedirects",
    "UnsafeURLError",
    "default_user_agent",
    "parse_retry_after",
    "pinned_client",
]

DEFAULT_CONTACT_URL = "https://github.com/newswatch/newswatch"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class TooLarge(FetchError):
    """The body (raw or decompressed) exceeded its cap."""


class Timeout(FetchError):
    """A connect/read timeout or the total deadline passed."""


class TooManyRedirects(FetchError):
    """More redirects than allowed, or a redirect without a Location."""


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(self, message: str, *, status: int, url: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.url = url
        self.retry_after = retry_after


class ConnectionFailed(FetchError):
    """The connection was refused, reset, or the server broke the protocol."""


class DecodingError(FetchError):
    """Unsupported Content-Encoding or corrupt compressed data."""


def pinned_client(
    policy: AddressPolicy,
    *,
    timeout: float,
    transport: httpx.BaseTransport | None = None,
    max_connections: int = 100,
    headers: dict[str, str] | None = None,
) -> httpx.Client:
    """An httpx client whose every request is checked and pinned; redirects are never followed.

    `transport` replaces the network (an `httpx.MockTransport` in unit tests); the policy still checks first.
    """
    return httpx.Client(
        transport=PinnedTransport(policy, inner=transport),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        headers=headers,
        trust_env=False,
    )


def default_user_agent(contact_url: str | None = None) -> str:
    """The User-Agent naming the service and a contact URL."""
    return f"Newswatch/0.1 (+{contact_url or DEFAULT_CONTACT_URL})"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None when absent or unparsable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class FetchLimits:
    """Timeouts (seconds), size caps (bytes) and the redirect limit of one fetch."""

    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_bytes: int = 10 * 1024 * 1024
    max_decompressed_bytes: int = 40 * 1024 * 1024
    max_redirects: int = 5


@dataclass
class FetchResult:
    """The final response of a fetch (after redirects)."""

    status: int
    url: str
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    redirects: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str | None:
        """The Content-Type header, if any."""
        return self.headers.get("content-type")


class _Decoder:
    """Incremental decompression that never produces more than the cap (defeats gzip bombs)."""

    def __init__(self, encoding: str, cap: int) -> None:
        enc = encoding.strip().lower()
        if enc in ("", "identity"):
            self._z = None
        elif enc in ("gzip", "x-gzip", "deflate"):
            # 32 + MAX_WBITS: auto-detect zlib or gzip framing.
            self._z = zlib.decompressobj(32 + zlib.MAX_WBITS)
            self._raw_deflate = enc == "deflate"
        else:
            raise DecodingError(f"unsupported Content-Encoding {encoding!r}")
        self._cap = cap
        self.size = 0
        self._started = False

    def feed(self, data: bytes) -> bytes:
        if self._z is None:
            return self._count(data)
        out = bytearray()
        while data:
            room = self._cap - self.size - len(out) + 1
            try:
                chunk = self._z.decompress(data, room)
            except zlib.error as exc:
                if self._raw_deflate and not self._started:
                    # Some servers send raw deflate without the zlib header.
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._raw_deflate = False
                    continue
                raise DecodingError(f"corrupt compressed body: {exc}") from exc
            self._started = True
            out += chunk
            if self.size + len(out) > self._cap:
                raise TooLarge(f"decompressed body exceeds {self._cap} bytes")
            data = self._z.unconsumed_tail
        return self._count(bytes(out))

    def flush(self) -> bytes:
        if self._z is None:
            return b""
        return self._count(self._z.flush())

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self._cap:
            raise TooLarge(f"decompressed body exceeds {self._cap} bytes")
        return data


class HttpClient:
    """Fetches one URL at a time under an AddressPolicy and FetchLimits; thread-compatible, not async."""

    def __init__(
        self,
        policy: AddressPolicy,
        limits: FetchLimits | None = None,
        user_agent: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.policy = policy
        self.limits = limits or FetchLimits()
        self.user_agent = user_agent or default_user_agent()
        timeout = httpx.Timeout(
            connect=self.limits.connect_timeout,
            read=self.limits.read_timeout,
            write=self.limits.read_timeout,
            pool=self.limits.connect_timeout,
        )
        self._client = httpx.Client(
            transport=PinnedTransport(policy, inner=transport),
            follow_redirects=False,
            timeout=timeout,
            trust_env=False,
            headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release pooled connections."""
        self._client.close()

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
    ) -> FetchResult:
        """GET with redirects checked hop by hop; raises a FetchError subclass on any failure."""
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        deadline = time.monotonic() + self.limits.total_timeout
        hops: list[str] = []
        current = url
        with total_deadline(self.limits.total_timeout):
            while True:
                result = self._one(current, headers, deadline)
                if result.status in _REDIRECTS:
                    location = result.headers.get("location")
                    if not location:
                        raise TooManyRedirects(f"redirect {result.status} without Location from {current}")
                    if len(hops) >= self.limits.max_redirects:
                        raise TooManyRedirects(f"more than {self.limits.max_redirects} redirects from {url}")
                    hops.append(current)
                    current = urljoin(current, location.strip())
                    continue
                result.redirects = hops
                return result

    def _one(self, url: str, headers: dict[str, str], deadline: float) -> FetchResult:
        try:
            request = self._client.build_request("GET", url, headers=headers)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise BadSchemeError(f"invalid URL {url!r}: {exc}") from exc
        try:
            response = self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise Timeout(f"{url}: {exc}") from exc
        except httpx.UnsupportedProtocol as exc:
            raise BadSchemeError(f"{url}: {exc}") from exc
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"{url}: {type(exc).__name__}: {exc}") from exc
        try:
            hdrs = {k.lower(): v for k, v in response.headers.items()}
            status = response.status_code
            base = FetchResult(
                status=status,
                url=url,
                content=b"",
                headers=hdrs,
                etag=hdrs.get("etag"),
                last_modified=hdrs.get("last-modified"),
            )
            if status in _REDIRECTS:
                return base
            if status == 304:
                base.not_modified = True
                return base
            if status >= 400:
                raise HTTPStatusError(
                    f"{url}: HTTP {status}",
                    status=status,
                    url=url,
                    retry_after=parse_retry_after(hdrs.get("retry-after")),
                )
            base.content = self._read_body(response, hdrs, url, deadline)
            return base
        finally:
            response.close()

    def _read_body(self, response: httpx.Response, hdrs: dict[str, str], url: str, deadline: float) -> bytes:
        declared = hdrs.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise TooLarge(f"{url}: Content-Length {declared} exceeds {self.limits.max_bytes}")
        decoder = _Decoder(hdrs.get("content-encoding", ""), self.limits.max_decompressed_bytes)
        raw = 0
        out: list[bytes] = []
        try:
            # Iterate the raw stream ourselves: decoding here is what enforces the decompressed cap.
            for chunk in response.stream:  # type: ignore[union-attr]  # a sync client's: a SyncByteStream
                raw += len(chunk)
                if raw > self.limits.max_bytes:
                    raise TooLarge(f"{url}: body exceeds {self.limits.max_bytes} bytes")
                out.append(decoder.feed(chunk))
                # Socket timeouts are clamped too; this also covers a fast server that never stops.
                if time.monotonic() > deadline:
                    raise Timeout(f"{url}: total deadline of {self.limits.total_timeout}s passed")
            out.append(decoder.flush())
        except httpx.TimeoutException as exc:
            raise Timeout(f"{url}: {exc}") from exc
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"{url}: {type(exc).__name__}: {exc}") from exc
        return b"".join(out)
