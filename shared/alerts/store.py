"""SQL for alerts, subscriptions and deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from shared.models import Alert, Delivery, Match, Subscription
from shared.models.delivery import PENDING


def alert_for(*, session: Session, watch_id: int, story_key: str) -> Alert | None:
    return session.exec(select(Alert).where(Alert.watch_id == watch_id, Alert.story_key == story_key)).first()


def insert_alert(*, session: Session, alert: Alert) -> tuple[Alert, bool]:
    """Insert unless (watch, story) has one (also under a concurrent insert); returns (row, created)."""
    try:
        with session.begin_nested():
            session.add(alert)
            session.flush()
    except IntegrityError:
        found = alert_for(session=session, watch_id=alert.watch_id, story_key=alert.story_key)
        if found is None:
            raise
        return found, False
    return alert, True


def insert_match(*, session: Session, match: Match) -> Match | None:
    """Insert unless this watch matched this article already; returns the new row or None."""
    try:
        with session.begin_nested():
            session.add(match)
            session.flush()
    except IntegrityError:
        return None
    return match


def active_subscriptions(*, session: Session) -> list[Subscription]:
    return list(session.exec(select(Subscription).where(Subscription.enabled).order_by(col(Subscription.id))))


def insert_delivery(*, session: Session, delivery: Delivery) -> Delivery | None:
    """Insert unless this event went to this subscription already; returns the new row or None."""
    try:
        with session.begin_nested():
            session.add(delivery)
            session.flush()
    except IntegrityError:
        return None
    return delivery


def due_delivery_ids(*, session: Session, now: datetime, limit: int) -> list[int]:
    """Pending deliveries whose time has come and which no worker holds."""
    q = (
        select(Delivery.id)
        .where(
            Delivery.status == PENDING,
            col(Delivery.next_attempt_at) <= now,
            or_(col(Delivery.locked_until).is_(None), col(Delivery.locked_until) < now),
        )
        .order_by(col(Delivery.next_attempt_at))
        .limit(limit)
    )
    return [i for i in session.exec(q) if i is not None]


def claim_delivery(*, session: Session, delivery_id: int, now: datetime) -> Delivery | None:
    """Lock one due delivery row for this worker (SKIP LOCKED on PostgreSQL), or None."""
    q = (
        select(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == PENDING,
            or_(col(Delivery.locked_until).is_(None), col(Delivery.locked_until) < now),
        )
        .with_for_update(skip_locked=True)
    )
    return session.exec(q).first()
