"""SQL for articles."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from shared.models import Article, ArticleSource


def by_canonical_url(*, session: Session, canonical_url: str) -> Article | None:
    return session.exec(select(Article).where(Article.canonical_url == canonical_url)).first()


def insert_if_new(*, session: Session, article: Article) -> tuple[Article, bool]:
    """Insert unless the canonical URL exists (also under a concurrent insert); returns (row, created)."""
    existing = by_canonical_url(session=session, canonical_url=article.canonical_url)
    if existing is not None:
        return existing, False
    try:
        with session.begin_nested():
            session.add(article)
            session.flush()
    except IntegrityError:
        existing = by_canonical_url(session=session, canonical_url=article.canonical_url)
        if existing is None:
            raise
        return existing, False
    return article, True


def add_source(*, session: Session, article_id: int, feed_id: int, guid: str | None) -> None:
    """Remember that this feed carried the article (once per feed)."""
    found = session.exec(
        select(ArticleSource).where(ArticleSource.article_id == article_id, ArticleSource.feed_id == feed_id)
    ).first()
    if found is not None:
        return
    try:
        with session.begin_nested():
            session.add(ArticleSource(article_id=article_id, feed_id=feed_id, guid=guid))
            session.flush()
    except IntegrityError:
        pass  # another worker recorded the same source


def get_many(*, session: Session, ids: Sequence[int]) -> list[Article]:
    if not ids:
        return []
    return list(session.exec(select(Article).where(col(Article.id).in_(ids)).order_by(col(Article.id))))


def list_page(
    *, session: Session, limit: int, before_id: int | None = None, status: str | None = None
) -> list[Article]:
    """Newest first, keyset-paginated by id."""
    q = select(Article).order_by(col(Article.id).desc()).limit(limit)
    if before_id is not None:
        q = q.where(col(Article.id) < before_id)
    if status is not None:
        q = q.where(Article.status == status)
    return list(session.exec(q))
