"""/api/v1/deliveries: the outbox and its attempt log; `?status=failed` lists the dead letters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from services.api.deps import KeyDep, SessionDep
from services.api.errors import errors_doc
from services.api.pagination import BeforeQ, LimitQ, Page, page
from services.queue import send
from shared.alerts import store
from shared.alerts import subscriptions as subs
from shared.errors import NotFound
from shared.models import ApiKey, Delivery, DeliveryAttempt, Subscription

router = APIRouter(prefix="/api/v1/deliveries", tags=["deliveries"])

StatusQ = Annotated[str | None, Query(alias="status", description="pending, succeeded, failed, missed")]


class AttemptOut(BaseModel):
    attempt: int
    attempted_at: datetime
    status_code: int | None
    duration_ms: float
    response_headers: dict[str, str]
    response_body: str
    error: str | None


class DeliveryOut(BaseModel):
    id: int
    webhook_id: str
    subscription_id: int
    alert_id: int | None
    event_type: str
    status: str
    attempts: int
    replays: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryDetail(DeliveryOut):
    payload: dict[str, Any]
    attempt_log: list[AttemptOut]


def delivery_out(d: Delivery) -> DeliveryOut:
    """The API form of a delivery."""
    return DeliveryOut(
        id=d.id or 0,
        webhook_id=d.msg_id,
        subscription_id=d.subscription_id,
        alert_id=d.alert_id,
        event_type=d.event_type,
        status=d.status,
        attempts=d.attempts,
        replays=d.replays,
        next_attempt_at=d.next_attempt_at,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        created_at=d.created_at,
        delivered_at=d.delivered_at,
    )


def attempt_out(a: DeliveryAttempt) -> AttemptOut:
    """The API form of one attempt."""
    return AttemptOut(
        attempt=a.attempt_number,
        attempted_at=a.attempted_at,
        status_code=a.status_code,
        duration_ms=a.duration_ms,
        response_headers=a.response_headers,
        response_body=a.response_body,
        error=a.error,
    )


def _owned(session: SessionDep, key: ApiKey, delivery_id: int) -> tuple[Delivery, Subscription]:
    d = session.get(Delivery, delivery_id)
    sub = session.get(Subscription, d.subscription_id) if d is not None else None
    if d is None or sub is None or not (key.is_admin or sub.owner_key_id == key.id):
        raise NotFound("no such delivery")
    return d, sub


@router.get("", response_model=Page[DeliveryOut])
def list_deliveries(
    session: SessionDep,
    key: KeyDep,
    limit: LimitQ = 50,
    before: BeforeQ = None,
    status_filter: StatusQ = None,
    event_type: str | None = None,
    subscription_id: int | None = None,
) -> Page[DeliveryOut]:
    """Deliveries newest first; `?status=failed` is the dead-letter list."""
    mine = None
    if not key.is_admin:
        mine = [
            s.id
            for s in store.list_subscriptions(session=session, owner_key_id=key.id, limit=10_000, before=None)
        ]
    rows = store.list_deliveries(
        session=session,
        subscription_id=subscription_id,
        subscription_ids=[i for i in mine if i is not None] if mine is not None else None,
        status=status_filter,
        event_type=event_type,
        limit=limit,
        before=before,
    )
    return page([delivery_out(d) for d in rows], limit, rows[-1].id if rows else None)


@router.get("/{delivery_id}", response_model=DeliveryDetail)
def get_delivery(delivery_id: int, session: SessionDep, key: KeyDep) -> DeliveryDetail:
    """One delivery with its payload and every attempt (status, duration, headers, first 4 KB of the body)."""
    d, _ = _owned(session, key, delivery_id)
    log = [attempt_out(a) for a in store.attempts_of(session=session, delivery_id=delivery_id)]
    return DeliveryDetail(**delivery_out(d).model_dump(), payload=d.payload, attempt_log=log)


@router.post(
    "/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
    responses=errors_doc(409),
)
def replay_delivery(delivery_id: int, session: SessionDep, key: KeyDep) -> DeliveryOut:
    """Send this delivery again, with the same webhook-id."""
    d, sub = _owned(session, key, delivery_id)
    ids = subs.replay(session=session, subscription=sub, delivery_id=delivery_id)
    session.commit()
    for i in ids:
        send("notifier.deliver", [i])
    session.refresh(d)
    return delivery_out(d)
