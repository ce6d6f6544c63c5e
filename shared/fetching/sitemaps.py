"""Google News sitemaps and sitemap indexes, parsed safely (defusedxml refuses DTDs and entities).

A news sitemap becomes a `ParsedFeed` (kind "sitemap") so the fetch service stores it like any feed; an index
lists child sitemaps to fetch. Gzipped sitemaps (`.xml.gz` without Content-Encoding) are inflated under a cap.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from shared.fetching.feeds import FeedEntry, FeedParseError, ParsedFeed

__all__ = ["Sitemap", "parse_sitemap", "sitemap_as_feed"]

_SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
MAX_INFLATED = 50 * 1024 * 1024  # the sitemap protocol's own limit


@dataclass
class SitemapEntry:
    """One <url> of a sitemap, with its news extension when present."""

    url: str
    title: str | None = None
    published: datetime | None = None
    lastmod: datetime | None = None
    language: str | None = None
    publication: str | None = None
    keywords: list[str] = field(default_factory=list)


@dataclass
class Sitemap:
    """A urlset (entries) or a sitemap index (child sitemap URLs)."""

    kind: str
    entries: list[SitemapEntry] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)


def _text(el: Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    return el.text.strip() or None


def _date(value: str | None, now: datetime) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return min(parsed.astimezone(UTC), now)


def _inflate(content: bytes) -> bytes:
    if not content.startswith(b"\x1f\x8b"):
        return content
    d = zlib.decompressobj(32 + zlib.MAX_WBITS)
    out = d.decompress(content, MAX_INFLATED + 1)
    if len(out) > MAX_INFLATED or d.unconsumed_tail:
        raise FeedParseError("gzipped sitemap inflates beyond 50 MB")
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_sitemap(content: bytes, *, now: datetime | None = None) -> Sitemap:
    """Parse a urlset or sitemapindex (namespaced or not); raises FeedParseError."""
    now = now or datetime.now(UTC)
    try:
        root = SafeET.fromstring(_inflate(content), forbid_dtd=True)
    except DefusedXmlException as exc:
        raise FeedParseError(f"unsafe XML refused: {type(exc).__name__}") from exc
    except SafeET.ParseError as exc:
        raise FeedParseError(f"not XML: {exc}") from exc
    kind = _local(root.tag)
    ns = _SM if root.tag.startswith(_SM) else ""
    if kind == "sitemapindex":
        locs = [_text(s.find(f"{ns}loc")) for s in root.iter(f"{ns}sitemap")]
        return Sitemap(kind="index", sitemaps=[u for u in locs if u])
    if kind != "urlset":
        raise FeedParseError(f"not a sitemap (root element {kind!r})")
    entries: list[SitemapEntry] = []
    seen: set[str] = set()
    for node in root.iter(f"{ns}url"):
        loc = _text(node.find(f"{ns}loc"))
        if not loc or loc in seen:
            continue
        seen.add(loc)
        news = node.find(f"{_NEWS}news")
        entry = SitemapEntry(url=loc, lastmod=_date(_text(node.find(f"{ns}lastmod")), now))
        if news is not None:
            entry.title = _text(news.find(f"{_NEWS}title"))
            entry.published = _date(_text(news.find(f"{_NEWS}publication_date")), now)
            pub = news.find(f"{_NEWS}publication")
            if pub is not None:
                entry.publication = _text(pub.find(f"{_NEWS}name"))
                entry.language = _text(pub.find(f"{_NEWS}language"))
            kw = _text(news.find(f"{_NEWS}keywords"))
            entry.keywords = [k.strip() for k in kw.split(",") if k.strip()] if kw else []
        entries.append(entry)
    return Sitemap(kind="urlset", entries=entries)


def sitemap_as_feed(sitemap: Sitemap, *, title: str | None = None) -> ParsedFeed:
    """A urlset as a ParsedFeed: one entry per URL, guid = URL, no text (pages are extracted later)."""
    entries = [
        FeedEntry(
            guid=e.url,
            url=e.url,
            title=e.title or "",
            summary="",
            content="",
            published=e.published or e.lastmod,
            author=None,
        )
        for e in sitemap.entries
    ]
    return ParsedFeed(title=title, entries=entries, kind="sitemap")
