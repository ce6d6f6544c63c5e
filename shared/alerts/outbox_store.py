"""SQL of the outbox's send side: claim a batch, record a batch of attempts, postpone, the sweep's claim.

Every statement works on a whole batch, so one task of 50 deliveries costs a handful of round trips instead
of a few per delivery (the round trips, not the sends, were what limited throughput).

Claiming: one conditional UPDATE … RETURNING takes every due, unheld row of the batch with a fresh token;
on PostgreSQL the rows are picked by a sub-select `FOR UPDATE SKIP LOCKED` in id order, so two workers with
overlapping batches never wait on (or deadlock with) each other: a row another transaction holds is skipped,
and the sweep finds it again if it is still due. SQLite has one writer at a time, which makes the plain
conditional UPDATE atomic. The sweep picks due rows the same way and marks them enqueued for a grace period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, or_, text, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from shared.models import Delivery, DeliveryAttempt, Subscription
from shared.models.base import table_of
from shared.models.delivery import PENDING

# The columns a recorded attempt sets on its delivery (one homogeneous executemany for the whole batch).
RESULT_COLUMNS = (
    "attempts",
    "status",
    "delivered_at",
    "next_attempt_at",
    "enqueued_until",
    "last_status_code",
    "last_error",
)


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def fast_commit(session: Session) -> None:
    """Let this transaction commit without waiting for the WAL flush (PostgreSQL).

    Only for outbox bookkeeping: if the server crashed right after, a claim or an attempt record is lost and
    the delivery is sent again with the same webhook-id, which receivers deduplicate anyway.
    """
    if _is_pg(session):
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def _due(now: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool], ColumnElement[bool]]:
    return (
        col(Delivery.status) == PENDING,
        col(Delivery.next_attempt_at) <= now,
        or_(col(Delivery.locked_until).is_(None), col(Delivery.locked_until) < now),
    )


def claim_due_for_enqueue(*, session: Session, now: datetime, grace: timedelta, limit: int) -> list[int]:
    """The sweep's claim: due, not held, not recently enqueued; marks them enqueued until now + grace."""
    q = (
        select(Delivery.id)
        .where(
            *_due(now),
            or_(col(Delivery.enqueued_until).is_(None), col(Delivery.enqueued_until) < now),
        )
        .order_by(col(Delivery.next_attempt_at))
        .limit(limit)
    )
    if _is_pg(session):
        q = q.with_for_update(skip_locked=True)
    ids = [i for i in session.exec(q) if i is not None]
    if ids:
        session.exec(update(Delivery).where(col(Delivery.id).in_(ids)).values(enqueued_until=now + grace))
    return ids


@dataclass(frozen=True)
class ClaimedRow:
    """What a claim returns: enough to send without another query."""

    id: int
    subscription_id: int
    msg_id: str
    event_type: str
    payload: dict[str, Any]
    attempts: int


def claim_deliveries(
    *,
    session: Session,
    delivery_ids: Sequence[int],
    token: str,
    now: datetime,
    lease: timedelta,
    slack: timedelta,
) -> list[ClaimedRow]:
    """Take every due, unheld delivery of the batch for this worker (one UPDATE … RETURNING), in id order."""
    if not delivery_ids:
        return []
    conds = (
        col(Delivery.id).in_(list(delivery_ids)),
        col(Delivery.status) == PENDING,
        col(Delivery.next_attempt_at) <= now + slack,
        or_(col(Delivery.locked_until).is_(None), col(Delivery.locked_until) < now),
    )
    if _is_pg(session):
        picked = (
            select(Delivery.id).where(*conds).order_by(col(Delivery.id)).with_for_update(skip_locked=True)
        )
        stmt = update(Delivery).where(col(Delivery.id).in_(picked.scalar_subquery()))
    else:
        stmt = update(Delivery).where(*conds)
    stmt = (
        stmt.values(locked_until=now + lease, lock_token=token)
        .returning(
            col(Delivery.id),
            col(Delivery.subscription_id),
            col(Delivery.msg_id),
            col(Delivery.event_type),
            col(Delivery.payload),
            col(Delivery.attempts),
        )
        .execution_options(synchronize_session=False)
    )
    rows = [ClaimedRow(*row) for row in session.execute(stmt)]
    rows.sort(key=lambda r: r.id)
    return rows


def record_attempts(
    *, session: Session, token: str, attempts: Sequence[dict[str, Any]], results: dict[int, dict[str, Any]]
) -> set[int]:
    """Log every attempt of a batch and, for the deliveries this claim still holds, apply their results.

    `attempts` are DeliveryAttempt column values; `results` maps a delivery id to its RESULT_COLUMNS values.
    Returns the ids whose results were applied (a lease that ran out, a replay or a disable in between
    means the row moved on: the attempt is logged, the result is not applied).
    """
    if attempts:
        session.execute(insert(table_of(DeliveryAttempt)), list(attempts))
    if not results:
        return set()
    q = (
        select(Delivery.id)
        .where(
            col(Delivery.id).in_(list(results)),
            col(Delivery.lock_token) == token,
            col(Delivery.status) == PENDING,
        )
        .with_for_update()  # held until commit, so the updates below apply to what we checked
    )
    held = {i for i in session.exec(q) if i is not None}
    if held:
        table = table_of(Delivery)
        stmt = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values(
                locked_until=None,
                lock_token=None,
                **{c: bindparam(c, type_=table.c[c].type) for c in RESULT_COLUMNS},
            )
        )
        params = [{"_id": i, **{c: results[i].get(c) for c in RESULT_COLUMNS}} for i in sorted(held)]
        session.connection().execute(stmt, params)
    return held


def mark_failing(*, session: Session, subscription_id: int, since: datetime) -> None:
    """Start the endpoint's run of failures (kept if one is running already)."""
    session.execute(
        update(Subscription)
        .where(col(Subscription.id) == subscription_id, col(Subscription.failing_since).is_(None))
        .values(failing_since=since)
        .execution_options(synchronize_session=False)
    )


def mark_healthy(*, session: Session, subscription_id: int, now: datetime) -> None:
    """End the endpoint's run of failures."""
    session.execute(
        update(Subscription)
        .where(col(Subscription.id) == subscription_id)
        .values(failing_since=None, last_success_at=now)
        .execution_options(synchronize_session=False)
    )


def set_status(*, session: Session, delivery_ids: Sequence[int], status: str) -> None:
    """Park deliveries in a status without a next attempt (e.g. missed: their endpoint is disabled)."""
    if not delivery_ids:
        return
    session.execute(
        update(Delivery)
        .where(col(Delivery.id).in_(list(delivery_ids)))
        .values(status=status, next_attempt_at=None, locked_until=None, lock_token=None)
        .execution_options(synchronize_session=False)
    )


def postpone(*, session: Session, delivery_id: int, token: str, until: datetime, grace: timedelta) -> None:
    """Give a claimed delivery back without an attempt (its endpoint is at its limit)."""
    session.exec(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id, col(Delivery.lock_token) == token)
        .values(next_attempt_at=until, locked_until=None, lock_token=None, enqueued_until=until + grace)
    )
