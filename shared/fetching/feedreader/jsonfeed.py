"""JSON Feed 1.0/1.1 (jsonfeed.org) into the same ParsedFeed as RSS and Atom."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from shared.fetching.feedreader.entries import Entries
from shared.fetching.feedreader.model import FeedParseError, ParsedFeed
from shared.fetching.feedreader.text import html_to_text, plain_text

__all__ = ["parse_json_feed"]


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_json_feed(text: str, *, url: str, now: datetime) -> ParsedFeed:
    """Parse a JSON Feed document; raises FeedParseError when it is not one."""
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
    entries = Entries(now)
    for item in doc.get("items", []):
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        link = urljoin(url, str(link)) if link else None
        # JSON Feed says which fields are HTML: title and summary are plain text, content_html is markup.
        title = plain_text(str(item.get("title") or ""))
        content = plain_text(str(item.get("content_text") or "")) or html_to_text(
            str(item.get("content_html") or "")
        )
        summary = plain_text(str(item.get("summary") or ""))
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        entries.add(
            guid=str(item.get("id") or ""),
            link=link,
            title=title,
            summary=summary,
            content=content,
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
        subtitle=plain_text(str(doc.get("description") or "")),
    )
