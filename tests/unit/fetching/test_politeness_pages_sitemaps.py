"""In-process host limiter, page extraction fallback, and news sitemaps."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from shared.fetching.feeds import FeedParseError
from shared.fetching.pages import extract_page, needs_extraction
from shared.fetching.politeness import MemoryHostLimiter, host_slot
from shared.fetching.sitemaps import parse_sitemap, sitemap_as_feed

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def test_memory_limiter_caps_concurrency_per_host() -> None:
    lim = MemoryHostLimiter(max_concurrent=2, min_gap=0.0)
    a = lim.acquire("Pub.Example")
    b = lim.acquire("pub.example")
    assert a and b and lim.acquire("pub.example") is None
    assert lim.acquire("other.example") is not None
    lim.release("pub.example", a)
    assert lim.acquire("pub.example") is not None


def test_memory_limiter_min_gap_refuses_immediate_second_start() -> None:
    lim = MemoryHostLimiter(max_concurrent=5, min_gap=60.0)
    with host_slot(lim, "pub.example") as first:
        assert first is not None
    assert lim.acquire("pub.example", wait=0.0) is None


def test_expired_slot_is_freed() -> None:
    lim = MemoryHostLimiter(max_concurrent=1, min_gap=0.0, slot_ttl=0.0)
    assert lim.acquire("h") is not None
    assert lim.acquire("h") is not None  # the first holder "crashed": its slot expired


ARTICLE = (
    "<html lang='en'><head><title>Summit ends</title><meta name='author' content='Jane Roe'>"
    "<meta property='article:published_time' content='2025-05-01T10:00:00Z'>"
    "<link rel='canonical' href='https://ex.com/story'></head><body><nav>Home | World</nav><article>"
    "<h1>Summit ends</h1><p>" + "Leaders of the Shanghai Cooperation Organisation ended their meeting. " * 8 +
    "</p><p>" + "Officials promised a joint statement on trade and security later this week. " * 6 +
    "</p></article><footer>Copyright</footer></body></html>"
)  # fmt: skip


def test_extract_page_gets_text_and_metadata() -> None:
    page = extract_page(ARTICLE.encode(), url="https://ex.com/x?utm_source=a", summary="short", now=NOW)
    assert page.ok and "Shanghai Cooperation Organisation" in page.text and "Home | World" not in page.text
    assert page.title == "Summit ends" and page.author == "Jane Roe"
    assert page.published == datetime(2025, 5, 1, tzinfo=UTC)
    assert page.language == "en" and page.canonical_url == "https://ex.com/story"


@pytest.mark.parametrize("html", [b"", b"<html><body><div></div></body></html>", b"\x00\xff<<<>>>"])
def test_failed_extraction_keeps_the_summary(html: bytes) -> None:
    page = extract_page(html, url="https://ex.com/x", summary="The summary from the feed.")
    assert not page.ok and page.text == "The summary from the feed." and page.error


def test_needs_extraction() -> None:
    assert needs_extraction("a short teaser", "")
    assert not needs_extraction("teaser", "full text " * 200)


NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
 <url><loc>https://ex.com/a</loc>
  <news:news><news:publication><news:name>Ex</news:name><news:language>en</news:language></news:publication>
   <news:publication_date>2025-05-31T08:00:00+00:00</news:publication_date>
   <news:title>SCO ministers meet</news:title><news:keywords>SCO, Astana</news:keywords></news:news></url>
 <url><loc>https://ex.com/b</loc><lastmod>2030-01-01</lastmod></url>
 <url><loc>https://ex.com/a</loc></url>
</urlset>"""


def test_news_sitemap_and_gzip() -> None:
    for body in (NEWS_SITEMAP, gzip.compress(NEWS_SITEMAP)):
        sm = parse_sitemap(body, now=NOW)
        assert sm.kind == "urlset" and [e.url for e in sm.entries] == ["https://ex.com/a", "https://ex.com/b"]
        first = sm.entries[0]
        assert (
            first.title == "SCO ministers meet"
            and first.language == "en"
            and first.keywords == ["SCO", "Astana"]
        )
        assert sm.entries[1].lastmod == NOW  # future clamped
    feed = sitemap_as_feed(parse_sitemap(NEWS_SITEMAP, now=NOW))
    assert feed.kind == "sitemap" and feed.entries[0].guid == "https://ex.com/a"


def test_sitemap_index_and_hostile_xml() -> None:
    idx = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://ex.com/news.xml</loc></sitemap></sitemapindex>"""
    assert parse_sitemap(idx).sitemaps == ["https://ex.com/news.xml"]
    with pytest.raises(FeedParseError, match="unsafe"):
        parse_sitemap(b'<!DOCTYPE x [<!ENTITY a "b">]><urlset>&a;</urlset>')
    with pytest.raises(FeedParseError):
        parse_sitemap(b"<html><body>no</body></html>")
    with pytest.raises(FeedParseError):
        parse_sitemap(gzip.compress(b"<urlset>" + b" " * (60 * 1024 * 1024) + b"</urlset>"))
