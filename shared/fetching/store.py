"""SQL for feeds, feed events, WebSub state, and story bands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from shared.fetching.stories import StoryCandidate
from shared.models import Article, ArticleSource, Feed
from shared.models.article import StoryBand
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
        session.exec(  # type: ignore[call-overload]
            update(Feed)
            .where(col(Feed.id).in_(ids), col(Feed.next_fetch_at) <= now)
            .values(next_fetch_at=now + timedelta(seconds=lease_seconds))
        )
    return ids


def by_url(*, session: Session, url: str) -> Feed | None:
    return session.exec(select(Feed).where(Feed.url == url)).first()


def list_feeds(*, session: Session, health: str | None = None) -> list[Feed]:
    q = select(Feed).order_by(col(Feed.id))
    if health is not None:
        q = q.where(Feed.health == health)
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


def list_events(*, session: Session, feed_id: int | None = None, limit: int = 100) -> list[FeedEvent]:
    """Newest events first."""
    q = select(FeedEvent).order_by(col(FeedEvent.id).desc()).limit(limit)
    if feed_id is not None:
        q = q.where(FeedEvent.feed_id == feed_id)
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
        session.exec(  # type: ignore[call-overload]
            update(Feed).where(col(Feed.id).in_(ids)).values(websub_renew_at=now + timedelta(hours=1))
        )
    return ids


def articles_for_stories(*, session: Session, ids: Sequence[int]) -> list[Article]:
    """Articles (by id, ascending) that still need a story."""
    if not ids:
        return []
    q = select(Article).where(col(Article.id).in_(list(ids)), col(Article.story_id).is_(None))
    return list(session.exec(q.order_by(col(Article.id))))


class SqlStoryStore:
    """`StoryStore` on the articles and story_bands tables of one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def story_by_fingerprint(self, fingerprint: str, *, before_id: int) -> int | None:
        """Story of the earliest other article with this fingerprint."""
        q = (
            select(Article.id, Article.story_id)
            .where(Article.fingerprint == fingerprint, col(Article.id) < before_id)
            .order_by(col(Article.id))
            .limit(1)
        )
        row = self.session.exec(q).first()
        return None if row is None else (row[1] or row[0])

    def candidates(self, bands: Sequence[int], *, before_id: int, limit: int) -> list[StoryCandidate]:
        """Earlier articles sharing a band, with their signatures."""
        if not bands:
            return []
        ids_q = (
            select(StoryBand.article_id)
            .where(col(StoryBand.band).in_(list(bands)), col(StoryBand.article_id) < before_id)
            .distinct()
            .limit(limit)
        )
        ids = list(self.session.exec(ids_q))
        if not ids:
            return []
        rows = self.session.exec(
            select(Article.id, Article.story_id, Article.minhash).where(col(Article.id).in_(ids))
        )
        return [StoryCandidate(int(a), s, m) for a, s, m in rows if a is not None]

    def save(self, article_id: int, *, story_id: int, signature: bytes | None, bands: Sequence[int]) -> None:
        """Write story id and signature; add the band rows in one statement."""
        self.session.exec(  # type: ignore[call-overload]
            update(Article).where(col(Article.id) == article_id).values(story_id=story_id, minhash=signature)
        )
        if bands:
            rows = [{"band": b, "article_id": article_id} for b in bands]
            self.session.exec(insert(StoryBand).values(rows))  # type: ignore[call-overload]
