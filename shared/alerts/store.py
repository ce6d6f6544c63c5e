"""SQL for alerts, subscriptions and deliveries. Nothing else in the alerts package writes SQL, except
`outbox_store` (the send side of the outbox: batch claim, batch record, the sweep's claim).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from shared.db import newest_first
from shared.models import Alert, Article, Delivery, DeliveryAttempt, Match, Subscription, Watch
from shared.models.base import utcnow
from shared.models.delivery import FAILED, MISSED, PENDING

_CHUNK = 500  # pairs per IN list


# Plain rows for the batch inserts: a SQLModel table object costs ~0.15 ms to build (validation and ORM
# instrumentation of every attribute), several per match at 10,000 watches, and these rows never enter the
# session. Their fields are the tables' columns (but the id, set after the insert).
@dataclass(slots=True)
class MatchRow:
    """A `matches` row to insert."""

    watch_id: int
    article_id: int
    score: float
    terms: list[dict[str, Any]]
    snippet: str
    created_at: datetime = field(default_factory=utcnow)
    id: int | None = None


@dataclass(slots=True)
class DeliveryRow:
    """A `deliveries` row to insert."""

    msg_id: str
    subscription_id: int
    alert_id: int | None
    event_type: str
    event_key: str
    payload: dict[str, Any]
    status: str
    next_attempt_at: datetime | None
    enqueued_until: datetime | None
    attempts: int = 0
    locked_until: datetime | None = None
    lock_token: str | None = None
    replays: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    delivered_at: datetime | None = None
    id: int | None = None


# --- alerts ------------------------------------------------------------------------------------------------


def alert_for(*, session: Session, watch_id: int, story_key: str, lock: bool = False) -> Alert | None:
    """The alert of this watch and story (row-locked when `lock`, so concurrent updates serialise)."""
    q = select(Alert).where(Alert.watch_id == watch_id, Alert.story_key == story_key)
    if lock:
        q = q.with_for_update()
    return session.exec(q).first()


def _savepoint_insert(session: Session, rows: Sequence[Alert | Match | Delivery]) -> IntegrityError | None:
    """Add and flush the rows inside a savepoint; None when inserted, or the error when a unique key refused
    one (then none is inserted: the savepoint is rolled back and the caller's transaction goes on)."""
    try:
        with session.begin_nested():
            session.add_all(rows)
            session.flush()
    except IntegrityError as exc:
        return exc
    return None


def insert_alert(*, session: Session, alert: Alert) -> tuple[Alert, bool]:
    """Insert unless (watch, story) has one (also under a concurrent insert); returns (row, created)."""
    refused = _savepoint_insert(session, [alert])
    if refused is not None:
        found = alert_for(session=session, watch_id=alert.watch_id, story_key=alert.story_key, lock=True)
        if found is None:
            raise refused
        return found, False
    return alert, True


def alerts_for(
    *, session: Session, keys: Sequence[tuple[int, str]], lock: bool = False
) -> dict[tuple[int, str], Alert]:
    """The alerts of these (watch id, story key) pairs, row-locked in id order when `lock`."""
    out: dict[tuple[int, str], Alert] = {}
    for i in range(0, len(keys), _CHUNK):
        pair = tuple_(col(Alert.watch_id), col(Alert.story_key))
        q = select(Alert).where(pair.in_(keys[i : i + _CHUNK])).order_by(col(Alert.id))
        if lock:
            q = q.with_for_update()
        out.update({(a.watch_id, a.story_key): a for a in session.exec(q)})
    return out


def insert_alerts(*, session: Session, alerts: Sequence[Alert]) -> bool:
    """Insert these alerts in one flush (a savepoint); False, with none inserted, when one of them has a
    (watch, story) another transaction inserted meanwhile (the caller then goes one by one)."""
    return _savepoint_insert(session, alerts) is None


def recent_alert_counts(*, session: Session, watch_ids: Sequence[int], since: datetime) -> dict[int, int]:
    """count_recent_alerts for many watches in one statement (watches without any are absent)."""
    if not watch_ids:
        return {}
    q = (
        select(Alert.watch_id, func.count())
        .where(
            col(Alert.watch_id).in_(list(watch_ids)),
            col(Alert.created_at) >= since,
            col(Alert.throttled).is_(False),
            col(Alert.is_digest).is_(False),
        )
        .group_by(col(Alert.watch_id))
    )
    return {int(w): int(n) for w, n in session.exec(q)}


def count_recent_alerts(*, session: Session, watch_id: int, since: datetime) -> int:
    """Alerts raised (not digests, not throttled) for a watch since a time: the throttle's count."""
    q = select(func.count()).where(
        Alert.watch_id == watch_id,
        col(Alert.created_at) >= since,
        col(Alert.throttled).is_(False),
        col(Alert.is_digest).is_(False),
    )
    return int(session.exec(q).one())


def undigested(*, session: Session, older_than: datetime, limit: int = 1000) -> dict[int, list[Alert]]:
    """Throttled alerts without a digest, per watch, for watches whose oldest one is older than the cut."""
    rows = session.exec(
        select(Alert)
        .where(col(Alert.throttled).is_(True), col(Alert.digest_id).is_(None))
        .order_by(col(Alert.id))
        .limit(limit)
    )
    out: dict[int, list[Alert]] = {}
    for a in rows:
        out.setdefault(a.watch_id, []).append(a)
    return {w: lst for w, lst in out.items() if min(x.created_at for x in lst) <= older_than}


def insert_matches(*, session: Session, matches: Sequence[MatchRow]) -> list[MatchRow]:
    """Insert each match whose (watch, article) is new: the rows inserted (ids set), in input order."""
    return [m for m, new in zip(matches, _insert_many(session, matches), strict=True) if new]


def _insert_many(session: Session, rows: Sequence[MatchRow] | Sequence[DeliveryRow]) -> list[bool]:
    """_insert_unless_exists for many rows of one table: INSERT … ON CONFLICT DO NOTHING RETURNING, sent
    as multi-row statements, on PostgreSQL and SQLite (another dialect: row by row). True where inserted."""
    if not rows:
        return []
    model: type[Match] | type[Delivery] = Match if isinstance(rows[0], MatchRow) else Delivery
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        done = []
        for row in rows:
            fields = asdict(row)
            fields.pop("id")
            obj = model(**fields)
            new = _insert_unless_exists(session, obj)
            row.id = obj.id if new else None
            done.append(new)
        return done
    table = model.__table__  # type: ignore[union-attr]  # SQLModel declares the table at run time
    names = [c.name for c in table.columns if c.name != "id"]
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # the RETURNING rows come back in no promised order: each is matched to its row by its unique key
    key_cols = ["watch_id", "article_id"] if model is Match else ["subscription_id", "event_key"]
    # executemany of one cached statement: SQLAlchemy sends it as multi-row INSERTs ("insertmanyvalues")
    stmt = insert(table).on_conflict_do_nothing().returning(table.c.id, *(table.c[k] for k in key_cols))
    values = [{n: getattr(row, n) for n in names} for row in rows]
    ids = {tuple(r[1:]): int(r[0]) for r in session.execute(stmt, values)}
    out: list[bool] = []
    for row in rows:
        new_id = ids.pop(tuple(getattr(row, k) for k in key_cols), None)  # a repeat in `rows`: not new
        if new_id is not None:
            row.id = new_id
        out.append(new_id is not None)
    return out


def _insert_unless_exists(session: Session, row: Match | Delivery) -> bool:
    """Insert the row unless a unique key has it already; True when inserted (and `row.id` is set).

    PostgreSQL and SQLite: one INSERT … ON CONFLICT DO NOTHING RETURNING id, instead of a savepoint, a flush
    and a release (three round trips per match and per delivery: profiled as a fifth of a pipeline worker
    at 10,000 watches). The row object stays outside the session: callers read its id. Another dialect:
    the savepoint.
    """
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        return _savepoint_insert(session, [row]) is None
    table = type(row).__table__  # type: ignore[union-attr]  # SQLModel declares the table at run time
    values = {c.name: getattr(row, c.name) for c in table.columns if c.name != "id"}
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)
    new_id = session.execute(stmt).scalar()
    if new_id is None:
        return False
    row.id = int(new_id)
    return True


def alerts_changed_since(*, session: Session, since: datetime, limit: int = 500) -> Sequence[Alert]:
    """Alerts created or updated since a time (the embedded live stream's tail)."""
    q = select(Alert).where(col(Alert.updated_at) >= since).order_by(col(Alert.updated_at)).limit(limit)
    return session.exec(q).all()


# --- subscriptions -----------------------------------------------------------------------------------------


def all_subscriptions(*, session: Session) -> list[Subscription]:
    """Every subscription, enabled or not (disabled ones collect missed deliveries)."""
    return list(session.exec(select(Subscription).order_by(col(Subscription.id))))


def list_subscriptions(
    *, session: Session, owner_id: int | None, limit: int, before: int | None
) -> Sequence[Subscription]:
    """Subscriptions newest first, of one owner, or all of them when `owner_id` is None (admin)."""
    q = newest_first(select(Subscription), Subscription.id, limit=limit, before=before)
    if owner_id is not None:
        q = q.where(Subscription.owner_id == owner_id)
    return session.exec(q).all()


def get_subscription(*, session: Session, subscription_id: int, owner_id: int | None) -> Subscription | None:
    """One subscription (None when it belongs to another owner than `owner_id`, if given)."""
    sub = session.get(Subscription, subscription_id)
    if sub is None or (owner_id is not None and sub.owner_id != owner_id):
        return None
    return sub


def owner_subscriptions(*, session: Session, owner_id: int, exclude_id: int) -> list[Subscription]:
    """The owner's other enabled subscriptions."""
    q = select(Subscription).where(
        col(Subscription.enabled).is_(True), Subscription.id != exclude_id, Subscription.owner_id == owner_id
    )
    return list(session.exec(q))


# --- deliveries --------------------------------------------------------------------------------------------


def insert_deliveries(*, session: Session, deliveries: Sequence[DeliveryRow]) -> list[DeliveryRow]:
    """Insert each delivery whose (subscription, event) is new: the rows inserted, in input order."""
    return [d for d, new in zip(deliveries, _insert_many(session, deliveries), strict=True) if new]


def mark_missed(*, session: Session, subscription_id: int) -> int:
    """A disabled endpoint's pending deliveries become missed (replayable on re-enable)."""
    res = session.exec(
        update(Delivery)
        .where(col(Delivery.subscription_id) == subscription_id, col(Delivery.status) == PENDING)
        .values(status=MISSED, next_attempt_at=None, locked_until=None, lock_token=None)
    )
    return int(res.rowcount or 0)


def replay(
    *,
    session: Session,
    subscription_id: int,
    now: datetime,
    since: datetime | None = None,
    delivery_id: int | None = None,
    statuses: Sequence[str] = (FAILED, MISSED),
) -> list[int]:
    """Make deliveries pending again (same webhook-id, fresh attempt count); returns their ids."""
    q = select(Delivery.id).where(Delivery.subscription_id == subscription_id)
    if delivery_id is not None:
        q = q.where(Delivery.id == delivery_id)
    else:
        q = q.where(col(Delivery.status).in_(list(statuses)))
    if since is not None:
        q = q.where(col(Delivery.created_at) >= since)
    ids = [i for i in session.exec(q) if i is not None]
    if ids:
        session.exec(
            update(Delivery)
            .where(col(Delivery.id).in_(ids))
            .values(
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
                locked_until=None,
                lock_token=None,
                enqueued_until=now + timedelta(seconds=30),
                replays=Delivery.replays + 1,
            )
        )
    return ids


def count_by_status(*, session: Session, subscription_id: int, status: str) -> int:
    """How many deliveries of a subscription are in a status."""
    q = select(func.count()).where(Delivery.subscription_id == subscription_id, Delivery.status == status)
    return int(session.exec(q).one())


def list_deliveries(
    *,
    session: Session,
    subscription_id: int | None,
    status: str | None,
    event_type: str | None,
    limit: int,
    before: int | None,
    owner_id: int | None = None,
) -> Sequence[Delivery]:
    """Deliveries newest first, filtered (by the owner of their subscription when `owner_id` is given)."""
    q = newest_first(select(Delivery), Delivery.id, limit=limit, before=before)
    if subscription_id is not None:
        q = q.where(Delivery.subscription_id == subscription_id)
    if owner_id is not None:
        q = q.join(Subscription, col(Subscription.id) == Delivery.subscription_id).where(
            Subscription.owner_id == owner_id
        )
    if status:
        q = q.where(Delivery.status == status)
    if event_type:
        q = q.where(Delivery.event_type == event_type)
    return session.exec(q).all()


def get_delivery(
    *, session: Session, delivery_id: int, owner_id: int | None
) -> tuple[Delivery, Subscription] | None:
    """A delivery and its subscription (None when that belongs to another owner than `owner_id`)."""
    d = session.get(Delivery, delivery_id)
    sub = session.get(Subscription, d.subscription_id) if d is not None else None
    if d is None or sub is None or (owner_id is not None and sub.owner_id != owner_id):
        return None
    return d, sub


def attempts_of(*, session: Session, delivery_id: int) -> Sequence[DeliveryAttempt]:
    """The attempt log of one delivery, oldest first."""
    q = (
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id == delivery_id)
        .order_by(col(DeliveryAttempt.id))
    )
    return session.exec(q).all()


def alerts_with_refs(
    *,
    session: Session,
    alert_id: int | None = None,
    watch_id: int | None = None,
    limit: int = 50,
    before: int | None = None,
    owner_id: int | None = None,
) -> list[tuple[Alert, Watch, Article]]:
    """Alerts with their watch and first article, newest first (of one owner's watches when given)."""
    q = newest_first(
        select(Alert, Watch, Article)
        .join(Watch, col(Watch.id) == Alert.watch_id)
        .join(Article, col(Article.id) == Alert.article_id),
        Alert.id,
        limit=limit,
        before=before,
    )
    if alert_id is not None:
        q = q.where(Alert.id == alert_id)
    if watch_id is not None:
        q = q.where(Alert.watch_id == watch_id)
    if owner_id is not None:
        q = q.where(Watch.owner_id == owner_id)
    return [(a, w, art) for a, w, art in session.exec(q)]
