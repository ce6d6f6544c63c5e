"""Ingest articles: canonical URL, fingerprint, one row per canonical URL, every source remembered."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session

from shared.articles.schemas import ArticleIn
from shared.fetching.canonical import canonical_url


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


def ingest(
    *, session: Session, items: Iterable[ArticleIn], source: str, feed_id: int | None = None
) -> IngestResult:
    """Store new articles as `fetched` with their story; known ones (same canonical URL) only gain the feed.

    One path for every producer (feeds, the API, seeds, imports): the set-at-a-time ingestion of
    shared.fetching.ingestion, which also assigns every new article its story.
    """
    from shared.fetching.ingestion import store_entries  # it builds on IngestResult and canonical_key here

    return store_entries(session=session, items=items, source=source, feed_id=feed_id)
