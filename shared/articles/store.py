"""SQL for articles."""

from __future__ import annotations

from sqlmodel import Session, col, select

from shared.models import Article


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
