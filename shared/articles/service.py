"""Ingest articles: canonical URL, fingerprint, one row per canonical URL, every source remembered."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session

from shared.articles import store
from shared.articles.schemas import ArticleIn
from shared.fetching.canonical import canonical_url
from shared.fetching.dedup import content_fingerprint
from shared.models import Article


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
    """Store new articles as `fetched`; known ones (same canonical URL) only gain the feed as a source."""
    result = IngestResult()
    for item in items:
        fingerprint = content_fingerprint(item.title, item.text)
        row = Article(
            url=item.url,
            canonical_url=canonical_key(item, fingerprint),
            title=item.title.strip(),
            text=item.text,
            author=item.author,
            language=item.language,
            published_at=item.published,
            fingerprint=fingerprint,
            source=source,
            feed_id=feed_id,
            guid=item.guid,
        )
        row, created = store.insert_if_new(session=session, article=row)
        assert row.id is not None
        if feed_id is not None:
            store.add_source(session=session, article_id=row.id, feed_id=feed_id, guid=item.guid)
        result.ids.append(row.id)
        if created:
            result.new_ids.append(row.id)
    return result
