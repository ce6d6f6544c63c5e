"""SQL for feeds."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from shared.models import Feed


def claim_due_feed_ids(*, session: Session, now: datetime, lease_seconds: float, limit: int) -> list[int]:
    """Due, enabled feeds; their next_fetch_at moves by a lease so a second scheduler does not re-enqueue."""
    q = (
        select(Feed.id)
        .where(Feed.enabled, col(Feed.next_fetch_at) <= now)
        .order_by(col(Feed.next_fetch_at))
        .limit(limit)
    )
    ids = [i for i in session.exec(q) if i is not None]
    if ids:
        session.exec(  # type: ignore[call-overload]
            update(Feed)
            .where(col(Feed.id).in_(ids), col(Feed.next_fetch_at) <= now)
            .values(next_fetch_at=now + timedelta(seconds=lease_seconds))
        )
    return ids


def by_url(*, session: Session, url: str) -> Feed | None:
    return session.exec(select(Feed).where(Feed.url == url)).first()


def list_feeds(*, session: Session) -> list[Feed]:
    return list(session.exec(select(Feed).order_by(col(Feed.id))))
