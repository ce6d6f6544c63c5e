"""/api/v1/subscriptions: webhook and Apprise endpoints, their filters, secrets, replay, test and attempt log.

The secret is returned once, at creation and at rotation. A key sees its own subscriptions; an admin key
sees all of them.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from services.api.deps import ChannelsDep, KeyDep, SessionDep, SettingsDep
from services.api.pagination import BeforeQ, LimitQ, Page, page
from services.api.routers.deliveries import DeliveryOut, StatusQ, delivery_out
from services.queue import send
from shared.alerts import outbox, store
from shared.alerts import subscriptions as subs
from shared.db import session_scope
from shared.models import ApiKey, Subscription

router = APIRouter(prefix="/api/v1/subscriptions", tags=["subscriptions"])


class SubscriptionIn(BaseModel):
    url: str = Field(
        max_length=2000, description="https://… webhook, or an Apprise URL (mailto://, slack://…)"
    )
    watches: list[int] | None = Field(default=None, description="watch ids; omitted or empty: every watch")
    event_types: list[str] | None = Field(
        default=None,
        description="alert.created, alert.updated, feed.unhealthy, endpoint.disabled (default: all)",
    )
    description: str | None = Field(default=None, max_length=500)
    max_concurrent: int | None = Field(default=None, ge=1, le=100, description="parallel requests to it")
    rate_per_second: float | None = Field(default=None, gt=0, le=10_000, description="requests a second")


class SubscriptionPatch(BaseModel):
    url: str | None = Field(default=None, max_length=2000, description="a new target, checked like a new one")
    watches: list[int] | None = Field(default=None, description="[] means every watch")
    event_types: list[str] | None = None
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None
    replay_missed: bool = Field(default=False, description="on re-enable: send what was missed meanwhile")


class SubscriptionOut(BaseModel):
    id: int
    url: str
    description: str | None
    watches: list[int] | None
    event_types: list[str]
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None
    max_concurrent: int | None
    rate_per_second: float | None
    created_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="whsec_…: shown this once; store it to verify signatures")


class EnableResult(BaseModel):
    subscription: SubscriptionOut
    missed: int = Field(description="deliveries missed while disabled")
    replayed: int = Field(description="how many of them were queued again")


class ReplayIn(BaseModel):
    since: datetime | None = Field(default=None, description="failed or missed deliveries created since")
    delivery_id: int | None = Field(default=None, description="just this delivery (any status)")


class ReplayOut(BaseModel):
    replayed: int
    delivery_ids: list[int]


class RotatedSecret(BaseModel):
    secret: str = Field(description="the new whsec_… secret, shown this once")
    previous_valid_until: datetime = Field(description="the old secret signs too until then")


class TestResult(BaseModel):
    delivery_id: int
    ok: bool
    status: str
    status_code: int | None
    duration_ms: float | None
    error: str | None


def sub_out(s: Subscription) -> SubscriptionOut:
    """The API form of a subscription (never its secrets)."""
    return SubscriptionOut(
        id=s.id or 0,
        url=s.url,
        description=s.description,
        watches=s.watch_ids,
        event_types=s.event_types,
        enabled=s.enabled,
        disabled_at=s.disabled_at,
        disabled_reason=s.disabled_reason,
        failing_since=s.failing_since,
        previous_secret_expires_at=s.previous_secret_expires_at,
        max_concurrent=s.max_concurrent,
        rate_per_second=s.rate_per_second,
        created_at=s.created_at,
    )


def owned(session: SessionDep, key: ApiKey, sub_id: int) -> Subscription:
    """The subscription if this key may see it, else 404."""
    sub = session.get(Subscription, sub_id)
    if sub is None or not (key.is_admin or sub.owner_key_id == key.id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such subscription")
    return sub


def _enqueue(ids: list[int]) -> None:
    for i in ids:
        send("notifier.deliver", [i])


def _unprocessable(exc: Exception) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionCreated)
def create_subscription(
    body: SubscriptionIn, session: SessionDep, settings: SettingsDep, channels: ChannelsDep, key: KeyDep
) -> SubscriptionCreated:
    """Create a subscription; the response carries its secret, shown this once."""
    try:
        sub, secret = subs.create_subscription(
            session=session,
            url=body.url,
            settings=settings,
            watch_ids=body.watches,
            event_types=body.event_types,
            description=body.description,
            owner_key_id=key.id,
            max_concurrent=body.max_concurrent,
            rate_per_second=body.rate_per_second,
            channels=channels,
        )
    except subs.SubscriptionError as exc:
        raise _unprocessable(exc) from exc
    session.commit()
    return SubscriptionCreated(**sub_out(sub).model_dump(), secret=secret)


@router.get("", response_model=Page[SubscriptionOut])
def list_subscriptions(
    session: SessionDep, key: KeyDep, limit: LimitQ = 50, before: BeforeQ = None
) -> Page[SubscriptionOut]:
    """Subscriptions, newest first."""
    rows = store.list_subscriptions(
        session=session, owner_key_id=None if key.is_admin else key.id, limit=limit, before=before
    )
    return page([sub_out(s) for s in rows], limit, rows[-1].id if rows else None)


@router.get("/{sub_id}", response_model=SubscriptionOut)
def get_subscription(sub_id: int, session: SessionDep, key: KeyDep) -> SubscriptionOut:
    """One subscription."""
    return sub_out(owned(session, key, sub_id))


@router.patch("/{sub_id}", response_model=EnableResult)
def update_subscription(
    sub_id: int,
    body: SubscriptionPatch,
    session: SessionDep,
    settings: SettingsDep,
    channels: ChannelsDep,
    key: KeyDep,
) -> EnableResult:
    """Change target, filters or description; `enabled: true` re-enables (`replay_missed`), false disables."""
    sub = owned(session, key, sub_id)
    try:
        if body.url is not None:
            subs.change_target(subscription=sub, url=body.url, settings=settings, channels=channels)
        subs.update_filters(
            session=session,
            subscription=sub,
            watch_ids=body.watches,
            event_types=body.event_types,
            clear_watches=body.watches == [],
        )
    except subs.SubscriptionError as exc:
        raise _unprocessable(exc) from exc
    if body.description is not None:
        sub.description = body.description
    missed, ids, follow = 0, [], []
    if body.enabled is True and not sub.enabled:
        res = subs.enable_subscription(session=session, subscription=sub, replay_missed=body.replay_missed)
        missed, ids = int(res["missed"]), list(res["replayed"])  # type: ignore[call-overload]
    elif body.enabled is False and sub.enabled:
        follow = subs.disable_subscription(
            session=session, subscription=sub, reason="disabled through the API"
        )
    session.commit()
    outbox.forget_subscription(sub.id)
    _enqueue(ids + follow)
    return EnableResult(subscription=sub_out(sub), missed=missed, replayed=len(ids))


@router.delete("/{sub_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_subscription(sub_id: int, session: SessionDep, key: KeyDep) -> Response:
    """Delete the subscription and its delivery log."""
    session.delete(owned(session, key, sub_id))
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{sub_id}/replay", status_code=status.HTTP_202_ACCEPTED, response_model=ReplayOut)
def replay(sub_id: int, body: ReplayIn, session: SessionDep, key: KeyDep) -> ReplayOut:
    """Send again one delivery, or every failed or missed one since a time, with the same webhook-id."""
    sub = owned(session, key, sub_id)
    if not sub.enabled:
        raise HTTPException(status.HTTP_409_CONFLICT, "the subscription is disabled; re-enable it first")
    try:
        ids = subs.replay(session=session, subscription=sub, since=body.since, delivery_id=body.delivery_id)
    except subs.SubscriptionError as exc:
        raise _unprocessable(exc) from exc
    session.commit()
    _enqueue(ids)
    return ReplayOut(replayed=len(ids), delivery_ids=ids)


@router.post("/{sub_id}/rotate-secret", response_model=RotatedSecret)
def rotate_secret(sub_id: int, session: SessionDep, settings: SettingsDep, key: KeyDep) -> RotatedSecret:
    """A new secret, shown once; the old one keeps signing alongside it for the grace period."""
    sub = owned(session, key, sub_id)
    secret, until = subs.rotate_secret(session=session, subscription=sub, settings=settings)
    session.commit()
    return RotatedSecret(secret=secret, previous_valid_until=until)


@router.post("/{sub_id}/test", response_model=TestResult)
def test_subscription(
    sub_id: int, session: SessionDep, settings: SettingsDep, channels: ChannelsDep, key: KeyDep
) -> TestResult:
    """Send a signed ping now and report what the endpoint answered (also kept in the attempt log).

    The target is checked again first, as before every delivery: a refused one is a `blocked` attempt."""
    sub = owned(session, key, sub_id)
    try:
        delivery_id = subs.create_ping(session=session, subscription=sub)
    except subs.SubscriptionError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    session.commit()
    session.close()  # the attempt may take up to the request timeout: hold no connection meanwhile
    outcome = outbox.deliver(
        delivery_id=delivery_id, settings=settings, session_factory=session_scope, channels=channels
    )
    if outcome.retry_in is not None and outcome.retry_in <= 60:
        send("notifier.deliver", [delivery_id])
    _enqueue(outcome.follow_up)
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
    sub_id: int,
    session: SessionDep,
    key: KeyDep,
    limit: LimitQ = 50,
    before: BeforeQ = None,
    status_filter: StatusQ = None,
    event_type: str | None = None,
) -> Page[DeliveryOut]:
    """This subscription's deliveries, newest first; `?status=failed` lists its dead letters."""
    owned(session, key, sub_id)
    rows = store.list_deliveries(
        session=session,
        subscription_id=sub_id,
        status=status_filter,
        event_type=event_type,
        limit=limit,
        before=before,
    )
    return page([delivery_out(d) for d in rows], limit, rows[-1].id if rows else None)
