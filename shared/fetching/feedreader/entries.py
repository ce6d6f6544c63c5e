"""From what a parsing path read to the feed Newswatch keeps: plain text, one date, keyed entries."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from shared.fetching.feedreader.model import FeedEntry, ParsedFeed, RawFeed
from shared.fetching.feedreader.text import plain_text, repair, text_of

__all__ = ["Entries", "finish"]

_WEB_URL = re.compile(r"https?://[^\s/]", re.I)


def _clamp(dt: datetime | None, now: datetime) -> datetime | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    # Future dates (bad clocks, scheduled posts, typos) would sort above every real item forever.
    return min(dt, now)


def _guid(*parts: str | None) -> str:
    joined = "\x1f".join(p or "" for p in parts)
    return "sha1:" + hashlib.sha1(joined.encode("utf-8")).hexdigest()


class Entries:
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
        """Add one entry unless its key was seen before in this feed."""
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


def _url(link: str | None, from_id: bool) -> str | None:
    """The entry's or feed's URL: its link, or its permalink id when that id is a web address."""
    if not link:
        return None
    return link if not from_id or _WEB_URL.match(link) else None


def finish(raw: RawFeed, *, now: datetime) -> ParsedFeed:
    """The ParsedFeed for what either path read."""
    entries = Entries(now)
    for e in raw.entries:
        entries.add(
            guid=e.id,
            link=_url(e.link, e.id_is_link),
            title=text_of(e.title),
            summary=text_of(e.summary),
            content=text_of(e.content),
            published=e.published or e.updated or e.created,
            author=(plain_text(repair(e.author)) or None) if e.author else None,
        )
    ttl = raw.ttl.strip() if raw.ttl else ""
    return ParsedFeed(
        title=text_of(raw.title) or None,
        entries=entries.items,
        hub=raw.hub,
        ttl_minutes=int(ttl) if ttl.isdigit() else None,
        kind=raw.kind,
        link=_url(raw.link, raw.id_is_link),
        self_url=raw.self_url,
        warnings=raw.warnings,
        subtitle=text_of(raw.subtitle),
        id=raw.id or None,
        updated=raw.updated or raw.published or raw.created,
    )
