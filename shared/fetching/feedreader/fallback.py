"""The fallback path: feedparser, for what lxml finds not well-formed (its loose parser reads broken XML).

The text handed over is already decoded and checked by feedreader.decode, so feedparser gets UTF-8 and no
DTD. Its HTML sanitiser and relative-URI rewriting inside markup are switched off: every text field is
reduced to plain text afterwards (scripts, styles and comments dropped there), so that work would be thrown
away. What feedparser read is turned into the same RawFeed as the fast path produces.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import feedparser

from shared.fetching.feedreader.model import NO_TEXT, FeedParseError, RawEntry, RawFeed, Text
from shared.fetching.feedreader.text import kind_of

__all__ = ["parse_fallback"]


def _get(node: Any, key: str) -> Any:
    """node[key] without FeedParserDict's aliases and deprecated fallbacks (updated -> published)."""
    return dict.get(node, key)


def _text(node: Any, key: str) -> Text:
    value = _get(node, key)
    if not value:
        return NO_TEXT
    detail = _get(node, f"{key}_detail")
    if detail is None and key == "summary":  # a summary feedparser copied from the content
        detail = (_get(node, "content") or [{}])[0]
    return str(value), kind_of((detail or {}).get("type", "text/plain"))


def _date(node: Any, key: str) -> datetime | None:
    parsed = _get(node, f"{key}_parsed")  # a time.struct_time
    if not parsed:
        return None
    year, month, day, hour, minute, second = parsed[:6]
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _link_and_id(node: Any) -> tuple[str | None, str | None, bool]:
    link, ident = _get(node, "link"), _get(node, "id")
    return link, ident, bool(_get(node, "guidislink")) and link is not None and link == ident


def parse_fallback(text: str, *, url: str) -> RawFeed:
    """Read a feed with feedparser; raises FeedParseError when it finds no feed at all."""
    body = ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode("utf-8")
    parsed = feedparser.parse(
        body,
        response_headers={"content-type": "application/xml; charset=utf-8", "content-location": url},
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    version = parsed.get("version") or ""
    if not version and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise FeedParseError(f"not a feed: {reason}" if reason else "not a feed (no RSS/Atom root element)")
    feed = parsed.feed
    raw = RawFeed("atom" if version.startswith("atom") else "rss")
    raw.title = _text(feed, "title")
    raw.subtitle = _text(feed, "subtitle") if _get(feed, "subtitle") else _text(feed, "summary")
    raw.link, raw.id, raw.id_is_link = _link_and_id(feed)
    raw.published, raw.updated, raw.created = (_date(feed, k) for k in ("published", "updated", "created"))
    for link in _get(feed, "links") or []:
        if link.get("rel") == "hub" and not raw.hub:
            raw.hub = link.get("href")
        elif link.get("rel") == "self" and not raw.self_url:
            raw.self_url = link.get("href")
    raw.ttl = str(_get(feed, "ttl") or "").strip() or None
    if parsed.get("bozo"):
        raw.warnings.append(f"malformed XML, parsed loosely: {parsed.get('bozo_exception')}")
    for e in parsed.entries:
        entry = RawEntry()
        entry.link, entry.id, entry.id_is_link = _link_and_id(e)
        entry.title, entry.summary = _text(e, "title"), _text(e, "summary")
        contents = _get(e, "content") or []
        if contents:
            entry.content = (str(contents[0].get("value") or ""), kind_of(contents[0].get("type")))
        entry.published, entry.updated, entry.created = (
            _date(e, k) for k in ("published", "updated", "created")
        )
        entry.author = _get(e, "author")
        raw.entries.append(entry)
    return raw
