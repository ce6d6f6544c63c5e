"""Parse RSS 0.9x/1.0/2.0, Atom and JSON Feed into one entry model, defensively.

Before feedparser sees a byte, the document is decoded by us (BOM, then valid UTF-8, then the declared
charsets, then cp1252), DTDs are removed and any entity declaration is refused, so entity expansion
(billion laughs) and external entities cannot happen. HTML served in place of a feed raises FeedParseError
naming the feeds the page advertises.

Exceptions:
    FeedParseError   the document is not a feed we can read (empty, HTML, unsafe XML, unparseable JSON)
"""

from __future__ import annotations

import calendar
import codecs
import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from shared.fetching.fastfeed import FastFeed, parse_fast

__all__ = ["FeedEntry", "FeedParseError", "ParsedFeed", "decode_document", "html_to_text", "parse_feed"]


class FeedParseError(ValueError):
    """The document is not a readable feed."""

    def __init__(self, message: str, *, alternates: list[str] | None = None) -> None:
        super().__init__(message)
        self.alternates = alternates or []


@dataclass
class FeedEntry:
    """One item of a feed, whatever its format; text fields are plain text."""

    guid: str
    url: str | None
    title: str
    summary: str
    content: str
    published: datetime | None
    author: str | None = None


@dataclass
class ParsedFeed:
    """A parsed feed: metadata and de-duplicated entries."""

    title: str | None
    entries: list[FeedEntry]
    hub: str | None = None
    ttl_minutes: int | None = None
    kind: str = "rss"
    link: str | None = None
    self_url: str | None = None
    warnings: list[str] = field(default_factory=list)


_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding=[\"']([A-Za-z0-9._:-]+)[\"']", re.I)
_XML_DECL_TEXT = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_DOCTYPE = re.compile(r"<!DOCTYPE\b[^>\[]*(\[.*?\])?\s*>", re.I | re.S)
_ENTITY = re.compile(r"<!ENTITY\b", re.I)
_HTML_START = re.compile(r"^\s*(<!--.*?-->\s*)*(<!DOCTYPE\s+html\b|<html\b|<head\b|<body\b)", re.I | re.S)
_ALT_LINK = re.compile(r"<link\b[^>]*>", re.I)
_ATTR = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_CHARSET = re.compile(r"charset=[\"']?([A-Za-z0-9._:-]+)", re.I)
# Characters XML 1.0 forbids; feeds contain them surprisingly often and they throw parsers into loose mode.
_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]


def _known(encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return None


def decode_document(content: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode bytes to text: BOM, valid UTF-8, declared charsets, cp1252, then UTF-8 with replacement."""
    for bom, enc in _BOMS:
        if content.startswith(bom):
            return content[len(bom) :].decode(enc, errors="replace"), enc
    # Valid UTF-8 with non-ASCII bytes is almost never a mislabelled single-byte charset, so trust it first.
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared: list[str] = []
    m = _XML_DECL.match(content[:512])
    if m:
        declared.append(m.group(1).decode("ascii"))
    if content_type:
        cm = _CHARSET.search(content_type)
        if cm:
            declared.append(cm.group(1))
    for name in declared:
        enc = _known(name)
        if enc and enc not in ("utf-8", "utf-16", "utf-32"):
            try:
                return content.decode(enc), enc
            except UnicodeDecodeError:
                continue
    try:
        return content.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return content.decode("utf-8", errors="replace"), "utf-8"


def html_to_text(fragment: str | None) -> str:
    """Plain text from an HTML fragment (tags dropped, entities unescaped, whitespace collapsed)."""
    if not fragment:
        return ""
    text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", fragment)
    text = re.sub(r"(?i)<br\s*/?>|</p\s*>|</div\s*>|</li\s*>|</h[1-6]\s*>", "\n", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = html.unescape(text)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def _alternates(text: str, base: str) -> list[str]:
    found: list[str] = []
    for tag in _ALT_LINK.findall(text[:200_000]):
        attrs = {k.lower(): (a or b or c) for k, a, b, c in _ATTR.findall(tag)}
        ctype = attrs.get("type", "").lower()
        if "alternate" in attrs.get("rel", "").lower().split() and any(
            t in ctype for t in ("rss", "atom", "feed+json", "application/json")
        ):
            href = attrs.get("href")
            if href:
                found.append(urljoin(base, html.unescape(href)))
    return found


def _clamp(dt: datetime | None, now: datetime) -> datetime | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    # Future dates (bad clocks, scheduled posts, typos) would sort above every real item forever.
    return min(dt, now)


class _Entries:
    """One feed's entries: a missing GUID falls back to the link or a content hash, the first of each GUID
    is kept (duplicate GUIDs are common), and future dates are clamped to now."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.items: list[FeedEntry] = []
        self._seen: set[str] = set()

    def add(
        self,
        *,
        guid: str | None,
        link: str | None,
        title: str,
        summary: str,
        content: str,
        published: datetime | None,
        author: str | None,
        guid_basis: str | None = None,
    ) -> None:
        key = (guid or "").strip() or link or _guid(title, summary if guid_basis is None else guid_basis)
        if key in self._seen:
            return
        self._seen.add(key)
        self.items.append(
            FeedEntry(
                guid=key[:2000],
                url=link,
                title=title,
                summary=summary,
                content=content,
                published=_clamp(published, self.now),
                author=author,
            )
        )


def _guid(*parts: str | None) -> str:
    joined = "\x1f".join(p or "" for p in parts)
    return "sha1:" + hashlib.sha1(joined.encode("utf-8")).hexdigest()


def parse_feed(
    content: bytes, *, url: str, content_type: str | None = None, now: datetime | None = None
) -> ParsedFeed:
    """Parse a feed document of any supported format; raises FeedParseError when it is not one."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if not content or not content.strip():
        raise FeedParseError("empty document")
    text, _enc = decode_document(content, content_type)
    stripped = text.lstrip("\ufeff \t\r\n")
    ctype = (content_type or "").lower()
    if stripped.startswith("{") or ("json" in ctype and not stripped.startswith("<")):
        return _parse_json_feed(stripped, url=url, now=now)
    if _HTML_START.match(_XML_DECL_TEXT.sub("", stripped, count=1)):
        alts = _alternates(stripped, url)
        hint = f"; the page advertises {', '.join(alts)}" if alts else ""
        raise FeedParseError(f"HTML page, not a feed{hint}", alternates=alts)
    return _parse_xml_feed(stripped, url=url, now=now)


def _parse_xml_feed(text: str, *, url: str, now: datetime) -> ParsedFeed:
    if _ENTITY.search(text):
        raise FeedParseError("XML entity declarations are refused (entity expansion / external entities)")
    for m in _DOCTYPE.finditer(text):
        if m.group(1):
            raise FeedParseError("XML DTD internal subsets are refused")
    text = _DOCTYPE.sub("", text)
    text = _XML_DECL_TEXT.sub("", text, count=1)
    text = _BAD_XML_CHARS.sub("", text)
    fast = parse_fast(text, url=url)
    if fast is not None:
        return _from_fast(fast, now=now)
    body = ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode("utf-8")
    parsed = feedparser.parse(
        body,
        response_headers={"content-type": "application/xml; charset=utf-8", "content-location": url},
        resolve_relative_uris=True,
        sanitize_html=True,
    )
    version = parsed.get("version") or ""
    if not version and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise FeedParseError(f"not a feed: {reason}" if reason else "not a feed (no RSS/Atom root element)")
    feed = parsed.feed
    hub = None
    self_url = None
    for link in feed.get("links", []):
        if link.get("rel") == "hub" and not hub:
            hub = link.get("href")
        elif link.get("rel") == "self" and not self_url:
            self_url = link.get("href")
    ttl: int | None = None
    raw_ttl = str(feed.get("ttl") or "").strip()
    if raw_ttl.isdigit():
        ttl = int(raw_ttl)
    warnings = [f"malformed XML, parsed loosely: {parsed.bozo_exception}"] if parsed.get("bozo") else []
    entries = _Entries(now)
    for e in parsed.entries:
        link = e.get("link") or None
        content_parts = [c.get("value", "") for c in e.get("content", []) if isinstance(c, dict)]
        when_struct = e.get("published_parsed") or e.get("updated_parsed") or e.get("created_parsed")
        entries.add(
            guid=e.get("id"),
            link=link,
            title=html_to_text(e.get("title")),
            summary=html_to_text(e.get("summary")),
            content=html_to_text(max(content_parts, key=len)) if content_parts else "",
            published=datetime.fromtimestamp(calendar.timegm(when_struct), UTC) if when_struct else None,
            author=html_to_text(e.get("author")) or None,
        )
    return ParsedFeed(
        title=html_to_text(feed.get("title")) or None,
        entries=entries.items,
        hub=hub,
        ttl_minutes=ttl,
        kind="atom" if version.startswith("atom") else "rss",
        link=feed.get("link"),
        self_url=self_url,
        warnings=warnings,
    )


def _from_fast(fast: FastFeed, *, now: datetime) -> ParsedFeed:
    entries = _Entries(now)
    for guid, link, title_html, summary_html, content_html, published, author in fast.entries:
        entries.add(
            guid=guid,
            link=link,
            title=html_to_text(title_html),
            summary=html_to_text(summary_html),
            content=html_to_text(content_html),
            published=published,
            author=html_to_text(author) or None,
        )
    ttl = int(fast.ttl) if fast.ttl and fast.ttl.strip().isdigit() else None
    return ParsedFeed(
        title=html_to_text(fast.title) or None,
        entries=entries.items,
        hub=fast.hub,
        ttl_minutes=ttl,
        kind=fast.kind,
        link=fast.link,
        self_url=fast.self_url,
    )


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _parse_json_feed(text: str, *, url: str, now: datetime) -> ParsedFeed:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise FeedParseError(f"invalid JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("items", []), list):
        raise FeedParseError("not a JSON Feed (no items list)")
    if "jsonfeed.org" not in str(doc.get("version", "")) and "items" not in doc:
        raise FeedParseError("not a JSON Feed (no version, no items)")
    hub = None
    for h in doc.get("hubs") or []:
        if isinstance(h, dict) and str(h.get("type", "")).lower() == "websub" and h.get("url"):
            hub = str(h["url"])
            break
    entries = _Entries(now)
    for item in doc.get("items", []):
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        link = urljoin(url, str(link)) if link else None
        title = html_to_text(str(item.get("title") or ""))
        content = str(item.get("content_text") or "") or html_to_text(str(item.get("content_html") or ""))
        summary = html_to_text(str(item.get("summary") or ""))
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        entries.add(
            guid=str(item.get("id") or ""),
            link=link,
            title=title,
            summary=summary,
            content=content.strip(),
            published=_iso(item.get("date_published")) or _iso(item.get("date_modified")),
            author=next((str(a["name"]) for a in authors if isinstance(a, dict) and a.get("name")), None),
            guid_basis=summary or content,
        )
    return ParsedFeed(
        title=str(doc["title"]) if doc.get("title") else None,
        entries=entries.items,
        hub=hub,
        ttl_minutes=None,
        kind="json",
        link=doc.get("home_page_url"),
        self_url=doc.get("feed_url"),
    )
