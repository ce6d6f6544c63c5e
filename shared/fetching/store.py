"""SQL for feeds, feed events and WebSub state (articles and stories: shared.ingestion.store)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import text, update
from sqlmodel import Session, col, select

from shared.db import newest_first
from shared.models import ArticleSource, Feed
from shared.models.feed import FeedEvent


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
        session.exec(
            update(Feed)
            .where(col(Feed.id).in_(ids), col(Feed.next_fetch_at) <= now)
            .values(next_fetch_at=now + timedelta(seconds=lease_seconds))
        )
    return ids


def by_url(*, session: Session, url: str, owner_id: int) -> Feed | None:
    """An owner's feed by URL (unique per owner)."""
    return session.exec(select(Feed).where(Feed.url == url, Feed.owner_id == owner_id)).first()


def get_feed(*, session: Session, feed_id: int, owner_id: int | None = None) -> Feed | None:
    """One feed by id (None when it belongs to another owner than `owner_id`, if given)."""
    feed = session.get(Feed, feed_id)
    if feed is None or (owner_id is not None and feed.owner_id != owner_id):
        return None
    return feed


def list_feeds(*, session: Session, health: str | None = None, owner_id: int | None = None) -> list[Feed]:
    """Feeds in id order, by health and owner when given."""
    q = select(Feed).order_by(col(Feed.id))
    if health is not None:
        q = q.where(Feed.health == health)
    if owner_id is not None:
        q = q.where(Feed.owner_id == owner_id)
    return list(session.exec(q))


def known_guids(*, session: Session, feed_id: int, guids: Sequence[str]) -> set[str]:
    """The guids among `guids` this feed has delivered before (re-polls skip them without other queries)."""
    found: set[str] = set()
    unique = list(dict.fromkeys(g for g in guids if g))
    for i in range(0, len(unique), 500):
        chunk = unique[i : i + 500]
        q = select(ArticleSource.guid).where(
            ArticleSource.feed_id == feed_id, col(ArticleSource.guid).in_(chunk)
        )
        found.update(g for g in session.exec(q) if g)
    return found


def add_event(*, session: Session, feed_id: int, type: str, health: str, reason: str) -> FeedEvent:
    """Store a feed event (feed.unhealthy, feed.recovered)."""
    event = FeedEvent(feed_id=feed_id, type=type, health=health, reason=reason[:4000])
    session.add(event)
    session.flush()
    return event


def list_events(
    *, session: Session, feed_id: int | None = None, limit: int = 100, owner_id: int | None = None
) -> list[FeedEvent]:
    """Newest events first, of one feed and of one owner's feeds when given."""
    q = newest_first(select(FeedEvent), FeedEvent.id, limit=limit, before=None)
    if feed_id is not None:
        q = q.where(FeedEvent.feed_id == feed_id)
    if owner_id is not None:
        q = q.join(Feed, col(Feed.id) == FeedEvent.feed_id).where(Feed.owner_id == owner_id)
    return list(session.exec(q))


def due_websub_renewals(*, session: Session, now: datetime, limit: int = 100) -> list[int]:
    """Feeds whose WebSub subscription should be (re)made now; their renew time moves by an hour."""
    q = (
        select(Feed.id)
        .where(
            Feed.enabled,
            col(Feed.hub_url).is_not(None),
            col(Feed.websub_renew_at).is_not(None),
            col(Feed.websub_renew_at) <= now,
        )
        .limit(limit)
    )
    ids = [i for i in session.exec(q) if i is not None]
    if ids:
        session.exec(
            update(Feed).where(col(Feed.id).in_(ids)).values(websub_renew_at=now + timedelta(hours=1))
        )
    return ids


def relaxed_commit(*, session: Session) -> None:
    """Let this transaction's commit return before its WAL reaches disk (PostgreSQL; no-op elsewhere).

    Safe for fetch results: the feed's new etag and schedule are in the same transaction, so a commit lost
    in a crash only means the feed is fetched again and the same items are found again.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))
