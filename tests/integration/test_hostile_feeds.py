"""Hostile and broken feeds served by a real HTTP server on 127.0.0.1, fetched and parsed for real.

Every case ends as a typed error (what the fetcher records) or as correct data; the server loops are bounded.
"""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.fetching.feeds import FeedParseError, ParsedFeed, parse_feed
from shared.outbound.http import (
    BlockedAddressError,
    FetchError,
    FetchLimits,
    HttpClient,
    Timeout,
    TooLarge,
    TooManyRedirects,
)
from shared.outbound.policy import AddressPolicy, parse_networks, system_resolver

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _rss(items: str, title: str = "T") -> bytes:
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>{items}</channel></rss>'.encode()  # noqa: E501


BILLION = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><title>&lol3;</title></channel></rss>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&xxe;</title></channel></rss>"""


def _bomb() -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1024 * 1024)
    return b"".join(z.compress(zeros) for _ in range(64)) + z.flush()  # 64 MiB inflated, ~64 KiB on the wire


class Handler(BaseHTTPRequestHandler):
    bomb = _bomb()

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, body: bytes, ctype: str = "application/rss+xml", status: int = 200, **hdrs: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in hdrs.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path
        if path == "/billion":
            self._send(BILLION)
        elif path == "/xxe":
            self._send(XXE)
        elif path == "/bomb":
            self._send(self.bomb, Content_Encoding="gzip")
        elif path == "/endless":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()
            chunk = b"<item><title>x</title></item>" * 1000
            try:
                for _ in range(20_000):  # bounded: ~580 MB at most, the client gives up long before
                    self.wfile.write(chunk)
            except OSError:
                return
        elif path in ("/slow", "/slow-headers"):
            try:
                if path == "/slow-headers":
                    for b in b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 30:
                        self.wfile.write(bytes([b]))
                        self.wfile.flush()
                        time.sleep(1)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", "1000")
                self.end_headers()
                for _ in range(30):  # bounded: 30 seconds at most
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                return
        elif path == "/wrong-charset":
            self._send(
                _rss("<item><title>Café</title><guid>1</guid></item>", "Москва"),
                "text/xml; charset=iso-8859-1",
            )
        elif path == "/no-charset":
            body = _rss("<item><title>Café</title><guid>1</guid></item>").replace(b'encoding="utf-8"', b"")
            self._send(body.decode().encode("latin-1"), "text/xml")
        elif path == "/invalid-utf8":
            self._send(
                _rss(
                    "<item><title>ok \xff\xfe end</title><guid>1</guid></item>".replace("\xff\xfe", "@@")
                ).replace(b"@@", b"\xff\xfe")
            )
        elif path == "/html":
            self._send(
                b"<!doctype html><html><head><title>Home</title></head><body>Hello</body></html>", "text/html"
            )
        elif path == "/empty-feed":
            self._send(_rss(""))
        elif path == "/empty-body":
            self._send(b"")
        elif path == "/dups":
            self._send(
                _rss(
                    "<item><title>a</title><guid>same</guid></item><item><title>b</title><guid>same</guid></item>"
                )
            )
        elif path == "/nolinks":
            self._send(_rss("<item><title>Only a title</title><description>and text</description></item>"))
        elif path == "/future":
            self._send(
                _rss(
                    "<item><title>f</title><guid>f</guid>"
                    "<pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>"
                )
            )
        elif path == "/loop":
            self._send(b"", status=302, Location="/loop")
        elif path == "/to-private":
            self._send(b"", status=302, Location="http://internal.test/admin")
        elif path == "/gzip-ok":
            self._send(
                gzip.compress(_rss("<item><title>z</title><guid>z</guid></item>")), Content_Encoding="gzip"
            )
        else:
            self._send(b"not found", "text/plain", status=404)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _resolver(host: str, port: int) -> list[str]:
    if host == "internal.test":
        return ["10.0.0.1"]
    return system_resolver(host, port)


@pytest.fixture
def fetch(base_url: str) -> Iterator[Callable[..., ParsedFeed]]:
    policy = AddressPolicy(allowed_networks=parse_networks("127.0.0.0/8"), resolver=_resolver)
    limits = FetchLimits(
        connect_timeout=2, read_timeout=2, total_timeout=4, max_bytes=2 * 1024 * 1024,
        max_decompressed_bytes=4 * 1024 * 1024, max_redirects=4,
    )  # fmt: skip
    client = HttpClient(policy, limits)

    def run(path: str) -> ParsedFeed:
        result = client.get(base_url + path)
        return parse_feed(result.content, url=result.url, content_type=result.content_type, now=NOW)

    yield run
    client.close()


@pytest.mark.parametrize("path", ["/billion", "/xxe"])
def test_entity_attacks_are_refused(fetch: Callable[..., ParsedFeed], path: str) -> None:
    with pytest.raises(FeedParseError, match="refused"):
        fetch(path)


def test_gzip_bomb_stops_at_decompressed_cap(fetch: Callable[..., ParsedFeed]) -> None:
    with pytest.raises(TooLarge, match="decompressed"):
        fetch("/bomb")


def test_never_ending_body_stops_at_size_cap(fetch: Callable[..., ParsedFeed]) -> None:
    with pytest.raises(TooLarge):
        fetch("/endless")


@pytest.mark.parametrize("path", ["/slow", "/slow-headers"])
def test_one_byte_a_second_hits_the_total_deadline(fetch: Callable[..., ParsedFeed], path: str) -> None:
    with pytest.raises(Timeout):
        fetch(path)


def test_charsets_and_invalid_utf8_give_correct_text(fetch: Callable[..., ParsedFeed]) -> None:
    assert fetch("/wrong-charset").title == "Москва"
    assert fetch("/wrong-charset").entries[0].title == "Café"
    assert fetch("/no-charset").entries[0].title == "Café"
    bad = fetch("/invalid-utf8").entries[0].title
    assert bad.startswith("ok") and bad.endswith("end")


def test_html_served_as_feed_is_a_clear_error(fetch: Callable[..., ParsedFeed]) -> None:
    with pytest.raises(FeedParseError, match="HTML"):
        fetch("/html")


def test_empty_feed_is_data_and_empty_body_an_error(fetch: Callable[..., ParsedFeed]) -> None:
    assert fetch("/empty-feed").entries == []
    with pytest.raises(FeedParseError, match="empty"):
        fetch("/empty-body")


def test_duplicates_missing_links_and_future_dates(fetch: Callable[..., ParsedFeed]) -> None:
    assert [e.title for e in fetch("/dups").entries] == ["a"]
    bare = fetch("/nolinks").entries[0]
    assert bare.url is None and bare.published is None and bare.guid
    assert fetch("/future").entries[0].published == NOW


def test_redirect_loop_and_redirect_to_private_address(fetch: Callable[..., ParsedFeed]) -> None:
    with pytest.raises(TooManyRedirects):
        fetch("/loop")
    with pytest.raises(BlockedAddressError):
        fetch("/to-private")


def test_gzip_feed_and_not_found(fetch: Callable[..., ParsedFeed]) -> None:
    assert fetch("/gzip-ok").entries[0].title == "z"
    with pytest.raises(FetchError, match="404"):
        fetch("/missing")
