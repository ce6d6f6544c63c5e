"""/api/v1/deliveries: the outbox of the caller's subscriptions and its attempt log; `?status=failed` lists
the dead letters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from services.api.deps import CallerDep, SessionDep
from services.api.errors import errors_doc
from services.api.params import BeforeQ, IdPath, LimitQ
from services.dispatch import enqueue_deliveries
from shared.alerts import store
from shared.alerts import subscriptions as subs
from shared.alerts.schemas import AttemptOut, DeliveryDetail, DeliveryOut, DeliveryStatus
from shared.schemas import MAX_INT, Page

router = APIRouter(prefix="/api/v1/deliveries", tags=["deliveries"])

StatusQ = Annotated[
    DeliveryStatus | None, Query(alias="status", description="pending, succeeded, failed, missed")
]
EventTypeQ = Annotated[str | None, Query(max_length=50, description="only this event type")]


@router.get("", response_model=Page[DeliveryOut])
def list_deliveries(
    session: SessionDep,
    caller: CallerDep,
    limit: LimitQ = 50,
    before: BeforeQ = None,
    status_filter: StatusQ = None,
    event_type: EventTypeQ = None,
    subscription_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> Page[DeliveryOut]:
    """Deliveries of the caller's subscriptions, newest first; `?status=failed` is the dead-letter list."""
    rows = store.list_deliveries(
        session=session,
        subscription_id=subscription_id,
        owner_id=caller.owner_filter,
        status=status_filter,
        event_type=event_type,
        limit=limit,
        before=before,
    )
    return Page.of([DeliveryOut.of(d) for d in rows], limit, rows[-1].id if rows else None)


@router.get("/{delivery_id}", response_model=DeliveryDetail)
def get_delivery(delivery_id: IdPath, session: SessionDep, caller: CallerDep) -> DeliveryDetail:
    """One delivery with its payload and every attempt (status, duration, headers, first 4 KB of the body)."""
    d, _ = subs.get_delivery(session=session, delivery_id=delivery_id, owner_id=caller.owner_filter)
    log = [AttemptOut.of(a) for a in store.attempts_of(session=session, delivery_id=delivery_id)]
    return DeliveryDetail(**DeliveryOut.of(d).model_dump(), payload=d.payload, attempt_log=log)


@router.post(
    "/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
    responses=errors_doc(409),
)
def replay_delivery(delivery_id: IdPath, session: SessionDep, caller: CallerDep) -> DeliveryOut:
    """Send this delivery again, with the same webhook-id (409 while its subscription is disabled)."""
    d, sub = subs.get_delivery(session=session, delivery_id=delivery_id, owner_id=caller.owner_filter)
    ids = subs.replay(session=session, subscription=sub, delivery_id=delivery_id)
    session.commit()
    enqueue_deliveries(ids, batch_size=1)
    session.refresh(d)
    return DeliveryOut.of(d)
