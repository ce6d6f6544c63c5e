"""SQL for articles."""

from __future__ import annotations

from sqlmodel import Session, select

from shared.db import newest_first
from shared.models import Article


def list_page(
    *, session: Session, limit: int, before_id: int | None = None, status: str | None = None
) -> list[Article]:
    """Newest first, keyset-paginated by id."""
    q = newest_first(select(Article), Article.id, limit=limit, before=before_id)
    if status is not None:
        q = q.where(Article.status == status)
    return list(session.exec(q))
