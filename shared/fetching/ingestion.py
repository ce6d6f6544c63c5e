"""From parsed entries to stored articles with stories: shared by polling, WebSub pushes and the importer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import Session

from shared.articles.schemas import ArticleIn
from shared.articles.service import IngestResult, ingest
from shared.fetching import store
from shared.fetching.feeds import FeedEntry
from shared.fetching.stories import assign_story

__all__ = ["assign_stories", "entry_to_article", "store_entries"]


def entry_to_article(
    entry: FeedEntry, *, text: str | None = None, language: str | None = None
) -> ArticleIn | None:
    """An ArticleIn from a feed entry (fields cut to column sizes); None for an entry with nothing in it."""
    body = text if text is not None else (entry.content or entry.summary or "")
    title = (entry.title or "").strip()
    if not title and not body.strip():
        return None
    url = entry.url if entry.url and len(entry.url) <= 2000 else None
    return ArticleIn(
        title=title[:2000],
        text=body[:2_000_000],
        url=url,
        published=entry.published,
        author=(entry.author or None) and entry.author[:500],  # type: ignore[index]
        language=(language or None) and language[:10],  # type: ignore[index]
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
    """Ingest articles (one row per canonical URL, every feed remembered) and assign stories to new ones."""
    result = ingest(session=session, items=list(items), source=source, feed_id=feed_id)
    if result.new_ids:
        assign_stories(session=session, article_ids=result.new_ids)
    return result
