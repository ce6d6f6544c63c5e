"""/api/v1/subscriptions: the caller's webhook and Apprise endpoints, their filters, secrets, replay, test and
attempt log. The secret is returned once, at creation and at rotation."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from services.api.deps import CallerDep, ChannelsDep, SessionDep, SettingsDep
from services.api.errors import errors_doc
from services.api.params import BeforeQ, IdPath, LimitQ
from services.api.routers.deliveries import EventTypeQ, StatusQ
from services.dispatch import enqueue_deliveries
from shared.alerts import outbox, store
from shared.alerts import subscriptions as subs
from shared.alerts.schemas import (
    DeliveryOut,
    EnableResult,
    ReplayIn,
    ReplayOut,
    RotatedSecret,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
    TestResult,
)
from shared.db import session_scope
from shared.schemas import Page

router = APIRouter(prefix="/api/v1/subscriptions", tags=["subscriptions"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionCreated)
def create_subscription(
    body: SubscriptionIn, session: SessionDep, settings: SettingsDep, channels: ChannelsDep, caller: CallerDep
) -> SubscriptionCreated:
    """Create a subscription of the caller's account; the response carries its secret, shown this once."""
    sub, secret = subs.create_subscription(
        session=session,
        url=body.url,
        settings=settings,
        watch_ids=body.watches,
        event_types=body.event_types,
        description=body.description,
        owner_id=caller.account_id,
        max_concurrent=body.max_concurrent,
        rate_per_second=body.rate_per_second,
        admin=caller.is_admin,
        channels=channels,
    )
    session.commit()
    return SubscriptionCreated(**SubscriptionOut.of(sub).model_dump(), secret=secret)


@router.get("", response_model=Page[SubscriptionOut])
def list_subscriptions(
    session: SessionDep, caller: CallerDep, limit: LimitQ = 50, before: BeforeQ = None
) -> Page[SubscriptionOut]:
    """The caller's subscriptions (an admin key: everyone's), newest first."""
    rows = store.list_subscriptions(session=session, owner_id=caller.owner_filter, limit=limit, before=before)
    return Page.of([SubscriptionOut.of(s) for s in rows], limit, rows[-1].id if rows else None)


@router.get("/{sub_id}", response_model=SubscriptionOut)
def get_subscription(sub_id: IdPath, session: SessionDep, caller: CallerDep) -> SubscriptionOut:
    """One subscription."""
    return SubscriptionOut.of(
        subs.get_subscription(session=session, subscription_id=sub_id, owner_id=caller.owner_filter)
    )


@router.patch("/{sub_id}", response_model=EnableResult)
def update_subscription(
    sub_id: IdPath,
    body: SubscriptionPatch,
    session: SessionDep,
    settings: SettingsDep,
    channels: ChannelsDep,
    caller: CallerDep,
) -> EnableResult:
    """Change target, filters or description; `enabled: true` re-enables (`replay_missed`), false disables."""
    sub = subs.get_subscription(session=session, subscription_id=sub_id, owner_id=caller.owner_filter)
    if body.url is not None:
        subs.change_target(subscription=sub, url=body.url, settings=settings, channels=channels)
    subs.update_filters(
        session=session,
        subscription=sub,
        watch_ids=body.watches,
        event_types=body.event_types,
        clear_watches=body.watches == [],
        admin=caller.is_admin,
    )
    if body.description is not None:
        sub.description = body.description
    missed, ids, follow = 0, [], []
    if body.enabled is True and not sub.enabled:
        res = subs.enable_subscription(session=session, subscription=sub, replay_missed=body.replay_missed)
        missed, ids = int(res["missed"]), list(res["replayed"])
    elif body.enabled is False and sub.enabled:
        follow = subs.disable_subscription(
            session=session, subscription=sub, reason="disabled through the API"
        )
    session.commit()
    outbox.forget_subscription(sub.id)
    enqueue_deliveries(ids + follow, batch_size=1)
    return EnableResult(subscription=SubscriptionOut.of(sub), missed=missed, replayed=len(ids))


@router.delete("/{sub_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_subscription(sub_id: IdPath, session: SessionDep, caller: CallerDep) -> Response:
    """Delete the subscription and its delivery log."""
    session.delete(
        subs.get_subscription(session=session, subscription_id=sub_id, owner_id=caller.owner_filter)
    )
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{sub_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReplayOut,
    responses=errors_doc(409),
)
def replay(sub_id: IdPath, body: ReplayIn, session: SessionDep, caller: CallerDep) -> ReplayOut:
    """Send again one delivery, or every failed or missed one since a time, with the same webhook-id."""
    sub = subs.get_subscription(session=session, subscription_id=sub_id, owner_id=caller.owner_filter)
    ids = subs.replay(session=session, subscription=sub, since=body.since, delivery_id=body.delivery_id)
    session.commit()
    enqueue_deliveries(ids, batch_size=1)
    return ReplayOut(replayed=len(ids), delivery_ids=ids)


@router.post("/{sub_id}/rotate-secret", response_model=RotatedSecret)
def rotate_secret(
    sub_id: IdPath, session: SessionDep, settings: SettingsDep, caller: CallerDep
) -> RotatedSecret:
    """A new secret, shown once; the old one keeps signing alongside it for the grace period."""
    sub = subs.get_subscription(session=session, subscription_id=sub_id, owner_id=caller.owner_filter)
    secret, until = subs.rotate_secret(session=session, subscription=sub, settings=settings)
    session.commit()
    return RotatedSecret(secret=secret, previous_valid_until=until)


@router.post("/{sub_id}/test", response_model=TestResult, responses=errors_doc(409))
def test_subscription(
    sub_id: IdPath, session: SessionDep, settings: SettingsDep, channels: ChannelsDep, caller: CallerDep
) -> TestResult:
    """Send a signed ping now and report what the endpoint answered (also kept in the attempt log).

    The target is checked again first, as before every delivery: a refused one is a `blocked` attempt."""
    sub = subs.get_subscription(session=session, subscription_id=sub_id, owner_id=caller.owner_filter)
    delivery_id = subs.create_ping(session=session, subscription=sub)
    session.commit()
    session.close()  # the attempt may take up to the request timeout: hold no connection meanwhile
    outcome = outbox.deliver(
        delivery_id=delivery_id, settings=settings, session_factory=session_scope, channels=channels
    )
    if outcome.retry_in is not None and outcome.retry_in <= 60:
        enqueue_deliveries([delivery_id])
    enqueue_deliveries(outcome.follow_up, batch_size=1)
    r = outcome.result
    return TestResult(
        delivery_id=delivery_id,
        ok=outcome.status == "sent",
        status=outcome.status,
        status_code=r.status_code if r else None,
        duration_ms=r.duration_ms if r else None,
        error=r.error if r else None,
    )


@router.get("/{sub_id}/deliveries", response_model=Page[DeliveryOut])
def list_deliveries(
    sub_id: IdPath,
    session: SessionDep,
    caller: CallerDep,
    limit: LimitQ = 50,
    before: BeforeQ = None,
    status_filter: StatusQ = None,
    event_type: EventTypeQ = None,
) -> Page[DeliveryOut]:
    """This subscription's deliveries, newest first; `?status=failed` lists its dead letters."""
    subs.get_subscription(session=session, subscription_id=sub_id, owner_id=caller.owner_filter)
    rows = store.list_deliveries(
        session=session,
        subscription_id=sub_id,
        status=status_filter,
        event_type=event_type,
        limit=limit,
        before=before,
    )
    return Page.of([DeliveryOut.of(d) for d in rows], limit, rows[-1].id if rows else None)
