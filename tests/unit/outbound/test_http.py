"""HttpClient with MockTransport: pinning, redirects, caps, conditional GET, status errors."""

from __future__ import annotations

import gzip
import zlib

import httpx
import pytest

from shared.outbound.http import (
    BlockedAddressError,
    DecodingError,
    FetchError,
    FetchLimits,
    HttpClient,
    HTTPStatusError,
    TooLarge,
    TooManyRedirects,
    default_user_agent,
    parse_retry_after,
)
from shared.outbound.policy import AddressPolicy, BadSchemeError, UnsafeURLError

PUBLIC = AddressPolicy(resolver=lambda host, port: ["93.184.216.34"])


def client(handler, policy: AddressPolicy = PUBLIC, **limits: int) -> HttpClient:
    return HttpClient(policy, FetchLimits(**limits), transport=httpx.MockTransport(handler))


def test_request_is_pinned_to_the_checked_address_with_host_and_sni() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"ok")

    result = client(handler).get("https://news.example.com/feed.xml")
    assert result.content == b"ok"
    assert result.url == "https://news.example.com/feed.xml"
    req = seen[0]
    assert req.url.host == "93.184.216.34"
    assert req.headers["host"] == "news.example.com"
    assert req.extensions["sni_hostname"] == "news.example.com"
    assert req.headers["user-agent"] == default_user_agent()


def test_redirect_hops_are_followed_and_each_is_checked() -> None:
    resolved: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        resolved.append(host)
        return ["10.0.0.1"] if host == "internal.example" else ["93.184.216.34"]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/a":
            return httpx.Response(301, headers={"location": "/b"})
        if request.url.path == "/b":
            return httpx.Response(302, headers={"location": "http://internal.example/secret"})
        raise AssertionError("the private address must never be contacted")

    with pytest.raises(BlockedAddressError):
        client(handler, AddressPolicy(resolver=resolver)).get("https://pub.example/a")
    assert resolved == ["pub.example", "pub.example", "internal.example"]


def test_redirect_loop_stops_at_the_limit() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "/loop"})

    with pytest.raises(TooManyRedirects):
        client(handler, max_redirects=3).get("https://pub.example/loop")


def test_bad_scheme_is_refused_before_any_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    for url in ("file:///etc/passwd", "ftp://pub.example/x", "gopher://x/"):
        with pytest.raises(UnsafeURLError):
            client(handler).get(url)
    assert issubclass(BadSchemeError, FetchError)


def test_conditional_get_sends_validators_and_reports_not_modified() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == '"v1"':
            assert request.headers["if-modified-since"] == "Wed, 01 Jan 2025 00:00:00 GMT"
            return httpx.Response(304)
        return httpx.Response(200, headers={"etag": '"v1"', "last-modified": "Wed, 01 Jan 2025 00:00:00 GMT"})

    first = client(handler).get("https://pub.example/f")
    assert first.etag == '"v1"' and not first.not_modified
    second = client(handler).get("https://pub.example/f", etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.status == 304 and second.content == b""


def test_gzip_and_deflate_bodies_are_decoded() -> None:
    payload = b"<rss>" + b"x" * 1000 + b"</rss>"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/gz":
            return httpx.Response(200, headers={"content-encoding": "gzip"}, content=gzip.compress(payload))
        raw = zlib.compressobj(wbits=-15)
        body = raw.compress(payload) + raw.flush()
        return httpx.Response(200, headers={"content-encoding": "deflate"}, content=body)

    assert client(handler).get("https://pub.example/gz").content == payload
    assert client(handler).get("https://pub.example/raw-deflate").content == payload


def test_gzip_bomb_hits_the_decompressed_cap() -> None:
    bomb = gzip.compress(b"\0" * (5 * 1024 * 1024))
    assert len(bomb) < 10_000

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-encoding": "gzip"}, content=bomb)

    with pytest.raises(TooLarge):
        client(handler, max_decompressed_bytes=1024 * 1024).get("https://pub.example/bomb")


def test_raw_body_cap_and_declared_length() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"a" * 5000)

    with pytest.raises(TooLarge):
        client(handler, max_bytes=1000).get("https://pub.example/big")


def test_unknown_content_encoding_is_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-encoding": "zstd-weird"}, content=b"abc")

    with pytest.raises(DecodingError):
        client(handler).get("https://pub.example/z")


def test_status_errors_carry_status_and_retry_after() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"retry-after": "120"})

    with pytest.raises(HTTPStatusError) as info:
        client(handler).get("https://pub.example/busy")
    assert info.value.status == 429 and info.value.retry_after == 120.0


def test_parse_retry_after_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 01 Jan 2025 00:01:00 GMT", now=now) == 60.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None
