"""Ingest articles from any source (feeds, WebSub pushes, the importer, seeds, POST /articles).

Canonical URL, fingerprint, one row per canonical URL, every source remembered, and a story for every new
article.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session

from shared import metrics
from shared.ingestion import store
from shared.ingestion.canonical import canonical_url
from shared.ingestion.dedup import content_fingerprint
from shared.ingestion.schemas import ArticleIn, is_link
from shared.ingestion.stories import NewArticle, assign_stories_batch, assign_story, decide_stories_batch
from shared.models import Article
from shared.models.base import to_utc, utcnow

__all__ = [
    "Entry",
    "IngestResult",
    "assign_stories",
    "canonical_key",
    "entry_to_article",
    "ingest",
    "store_entries",
]


class Entry(Protocol):
    """What a source hands in for one item (a feed entry, a sitemap URL, a pushed entry); fetching's
    FeedEntry has this shape, so ingestion needs nothing from the sources."""

    guid: str
    url: str | None
    title: str
    summary: str
    content: str
    published: datetime | None
    author: str | None


@dataclass
class IngestResult:
    """Ids of every article given (in order) and of those that were new."""

    ids: list[int] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)


def canonical_key(item: ArticleIn, fingerprint: str) -> str:
    """The canonical URL, or a content URN for articles pushed without a URL."""
    if item.url:
        try:
            return canonical_url(item.url)
        except ValueError:
            return item.url.strip()
    return f"urn:newswatch:sha256:{fingerprint}"


def entry_to_article(
    entry: Entry, *, text: str | None = None, language: str | None = None
) -> ArticleIn | None:
    """An ArticleIn from a feed entry (fields cut to column sizes); None for an entry with nothing in it, or
    with a link that is not http(s) (a hostile feed's `javascript:` link is refused, not stored)."""
    body = text if text is not None else (entry.content or entry.summary or "")
    title = (entry.title or "").strip()
    if not title and not body.strip():
        return None
    if entry.url and not is_link(entry.url):
        return None
    url = entry.url if entry.url and len(entry.url) <= 2000 else None
    return ArticleIn(
        title=title[:2000],
        text=body[:2_000_000],
        url=url,
        published=entry.published,
        author=(entry.author or None) and entry.author[:500],
        language=(language or None) and language[:10],
        guid=entry.guid[:2000] if entry.guid else None,
    )


def assign_stories(*, session: Session, article_ids: Sequence[int]) -> dict[int, int]:
    """Give every listed article without a story its story id; returns {article id: story id}."""
    story_store = store.SqlStoryStore(session)
    out: dict[int, int] = {}
    for art in store.articles_for_stories(session=session, ids=article_ids):
        assert art.id is not None
        out[art.id] = assign_story(
            story_store, article_id=art.id, title=art.title, text=art.text, fingerprint=art.fingerprint
        )
    return out


def store_entries(
    *, session: Session, items: Iterable[ArticleIn], source: str, feed_id: int | None = None
) -> IngestResult:
    """Store new articles (one row per canonical URL), remember the feed for all, and give new ones stories.

    Set-at-a-time: a fixed handful of statements per batch whatever its size; same keys and same rows.
    """
    now = utcnow()
    prepared: list[tuple[ArticleIn, str, str]] = []
    for item in items:
        fp = content_fingerprint(item.title, item.text)
        prepared.append((item, canonical_key(item, fp), fp))
    known = store.existing_articles(session=session, canonical_urls=[c for _, c, _ in prepared])
    rows: list[dict[str, Any]] = []
    fresh: dict[str, tuple[ArticleIn, str]] = {}
    # Column defaults come from the model once per batch; each row then only sets its own values.
    defaults = Article(canonical_url="", fetched_at=now, source=source).model_dump(exclude={"id"})
    for item, canon, fp in prepared:
        if canon in known or canon in fresh:
            continue
        fresh[canon] = (item, fp)
        rows.append(
            {
                **defaults,
                "url": item.url, "canonical_url": canon, "title": item.title.strip(), "text": item.text,
                "author": item.author, "language": item.language, "published_at": item.published,
                "fingerprint": fp, "feed_id": feed_id, "guid": item.guid,
            }
        )  # fmt: skip
    decided: dict[int, tuple[int, bytes | None, Sequence[int]]] = {}
    reserved = store.reserve_article_ids(session=session, count=len(rows)) if rows else None
    if reserved is not None:
        # PostgreSQL: ids come from the sequence first, so stories and signatures go in with the INSERT
        # (no second write of every new row). A reserved id lost to a concurrent insert is only a gap.
        for row, new_id in zip(rows, reserved, strict=True):
            row["id"] = new_id
        new = [NewArticle(r["id"], r["title"], r["text"], r["fingerprint"]) for r in rows]
        for aid, story, sig, bands in decide_stories_batch(store.SqlBatchStoryStore(session), new):
            decided[aid] = (story, sig, bands)
        for row in rows:
            row["story_id"], row["minhash"], _bands = decided[row["id"]]
    inserted = store.insert_articles(session=session, rows=rows)
    lost = [c for c in fresh if c not in inserted]  # inserted meanwhile by another worker
    if lost:
        known.update(store.existing_articles(session=session, canonical_urls=lost))
    ids_by_url = {**known, **inserted}
    result = IngestResult()
    for _item, canon, _fp in prepared:
        result.ids.append(ids_by_url[canon])
    result.new_ids = [inserted[c] for c in fresh if c in inserted]
    metrics.count(session, "articles", len(result.new_ids), outcome="fetched", source=source)
    published = [to_utc(item.published) for c, (item, _fp) in fresh.items() if c in inserted]
    delays = [(now - p).total_seconds() for p in published if p is not None]
    metrics.observe_on_commit(session, "published_to_fetched", delays)
    if feed_id is not None:
        sources: dict[int, dict[str, Any]] = {}
        for item, canon, _fp in prepared:
            aid = ids_by_url[canon]
            sources.setdefault(
                aid, {"article_id": aid, "feed_id": feed_id, "guid": item.guid, "seen_at": now}
            )
        store.add_sources(session=session, rows=list(sources.values()))
    if result.new_ids and decided:
        story_store = store.SqlBatchStoryStore(session)
        story_store.save_bands([(a, *decided[a]) for a in result.new_ids])
    elif result.new_ids:
        new = [
            NewArticle(inserted[c], item.title.strip(), item.text, fp)
            for c, (item, fp) in fresh.items()
            if c in inserted
        ]
        assign_stories_batch(store.SqlBatchStoryStore(session), new)
    return result


def ingest(
    *, session: Session, items: Iterable[ArticleIn], source: str, feed_id: int | None = None
) -> IngestResult:
    """Store new articles as `fetched` with their story; known ones (same canonical URL) only gain the feed.

    One path for every producer (feeds, the API, seeds, imports).
    """
    return store_entries(session=session, items=items, source=source, feed_id=feed_id)
