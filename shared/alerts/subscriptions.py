"""Subscriptions: create, sign, rotate secrets, disable (and tell the owner), re-enable, replay, test ping.

Exceptions (see shared/errors.py):
    SubscriptionError     an InvalidInput: the request about a subscription is invalid (→ 422)
    SubscriptionDisabled  a Conflict: replay or test of a disabled subscription (→ 409)
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TypedDict

from sqlmodel import Session

from shared.alerts import payload, signing, store
from shared.alerts.channels import ChannelRegistry, registry_for
from shared.alerts.service import enqueue_event
from shared.alerts.signing import SECRET_PREFIX, SigningSecret, generate_secret, valid_secrets
from shared.config import Settings
from shared.errors import Conflict, InvalidInput, NotFound
from shared.models import Delivery, Subscription
from shared.models.account import SYSTEM_ACCOUNT_ID
from shared.models.base import to_utc, utcnow
from shared.models.delivery import FAILED, MISSED, PENDING
from shared.outbound.policy import UnsafeURLError
from shared.rules import store as watch_store
from shared.security.keys import SecretBox


class SubscriptionError(InvalidInput):
    """The subscription request is invalid (unknown event type or watch, unusable URL)."""


class SubscriptionDisabled(Conflict):
    """The subscription is disabled: re-enable it before replaying or testing it."""

    code = "subscription_disabled"


@lru_cache(maxsize=4)
def _box(secret_key: str | None, data_dir: Path) -> SecretBox:
    return SecretBox.from_settings(secret_key, data_dir)


def secret_box(settings: Settings) -> SecretBox:
    """The encryption box for webhook secrets at rest (cached per key)."""
    return _box(settings.secret_key, settings.data_dir.resolve())


def rotation_grace(settings: Settings) -> timedelta:
    """How long the previous secret keeps signing after a rotation."""
    return timedelta(seconds=settings.secret_rotation_grace_seconds)


# Older secrets are kept as one encrypted JSON list in `previous_secret_encrypted`, each with its own expiry
# (`previous_secret_expires_at` holds the latest of them, for display). A value that is a bare `whsec_…` is
# the single previous secret written before the list form; its expiry is that column.
MAX_PREVIOUS_SECRETS = 10  # bounds the signature header when someone rotates in a loop


def previous_secrets(sub: Subscription, *, settings: Settings) -> list[SigningSecret]:
    """The subscription's older secrets with their expiries (expired ones included), newest first."""
    if not sub.previous_secret_encrypted:
        return []
    raw = secret_box(settings).decrypt(sub.previous_secret_encrypted)
    if raw.startswith(SECRET_PREFIX):
        exp = to_utc(sub.previous_secret_expires_at)
        return [SigningSecret(raw, created_at=exp, expires_at=exp)] if exp is not None else []
    return [SigningSecret.from_dict(item) for item in json.loads(raw)]


def signing_secrets(sub: Subscription, *, settings: Settings, now: datetime | None = None) -> list[str]:
    """The secrets that sign for this subscription now: the current one, then every older one in its grace."""
    current = secret_box(settings).decrypt(sub.secret_encrypted)
    return [current, *valid_secrets(previous_secrets(sub, settings=settings), now=now or utcnow())]


def _check_filters(
    session: Session, watch_ids: list[int] | None, event_types: list[str] | None, visible_to: int | None
) -> None:
    unknown = sorted(set(event_types or []) - set(payload.EVENT_TYPES))
    if unknown:
        raise SubscriptionError(f"unknown event types {unknown}; known: {list(payload.EVENT_TYPES)}")
    if watch_ids:
        # another account's watch reads as missing, as everywhere else
        missing = [
            w
            for w in watch_ids
            if watch_store.get_watch(session=session, watch_id=w, owner_id=visible_to) is None
        ]
        if missing:
            raise SubscriptionError(f"no such watches: {missing}")


def get_delivery(
    *, session: Session, delivery_id: int, owner_id: int | None = None
) -> tuple[Delivery, Subscription]:
    """A delivery and its subscription; NotFound when there is none, or it is another owner's."""
    found = store.get_delivery(session=session, delivery_id=delivery_id, owner_id=owner_id)
    if found is None:
        raise NotFound("no such delivery")
    return found


def get_subscription(*, session: Session, subscription_id: int, owner_id: int | None = None) -> Subscription:
    """One subscription; NotFound when there is none, or it belongs to another owner than `owner_id`."""
    sub = store.get_subscription(session=session, subscription_id=subscription_id, owner_id=owner_id)
    if sub is None:
        raise NotFound("no such subscription")
    return sub


def check_target(url: str, *, settings: Settings, channels: ChannelRegistry | None = None) -> None:
    """Raise SubscriptionError unless an enabled channel may send to the URL (scheme, parameters, hosts)."""
    try:
        (channels or registry_for(settings)).check(url)
    except UnsafeURLError as exc:
        raise SubscriptionError(str(exc)) from exc


def create_subscription(
    *,
    session: Session,
    url: str,
    settings: Settings,
    watch_ids: list[int] | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    owner_id: int = SYSTEM_ACCOUNT_ID,
    max_concurrent: int | None = None,
    rate_per_second: float | None = None,
    admin: bool = False,
    channels: ChannelRegistry | None = None,
) -> tuple[Subscription, str]:
    """Check the target and filters, store the owner's subscription; returns it and its secret (shown once).

    `url` is an http(s) webhook URL, or a vetted notification URL (mailto://, slack://, tgram://, json://…).
    The watches named must be the owner's (any account's when `admin`).
    """
    check_target(url, settings=settings, channels=channels)
    types = list(event_types) if event_types else list(payload.DEFAULT_EVENT_TYPES)
    _check_filters(session, watch_ids, types, None if admin else owner_id)
    secret = generate_secret()
    sub = Subscription(
        url=url,
        description=description,
        watch_ids=watch_ids or None,
        event_types=types,
        secret_encrypted=secret_box(settings).encrypt(secret),
        owner_id=owner_id,
        max_concurrent=max_concurrent,
        rate_per_second=rate_per_second,
    )
    session.add(sub)
    session.flush()
    return sub, secret


def change_target(
    *, subscription: Subscription, url: str, settings: Settings, channels: ChannelRegistry | None = None
) -> Subscription:
    """Point the subscription at a new URL, checked as at creation (raises SubscriptionError)."""
    check_target(url, settings=settings, channels=channels)
    subscription.url = url
    return subscription


def update_filters(
    *,
    session: Session,
    subscription: Subscription,
    watch_ids: list[int] | None = None,
    event_types: list[str] | None = None,
    clear_watches: bool = False,
    admin: bool = False,
) -> Subscription:
    """Change which watches and event types the subscription receives (its owner's, unless `admin`)."""
    _check_filters(session, watch_ids, event_types, None if admin else subscription.owner_id)
    if event_types is not None:
        subscription.event_types = list(event_types)
    if clear_watches:
        subscription.watch_ids = None
    elif watch_ids is not None:
        subscription.watch_ids = watch_ids or None
    session.add(subscription)
    return subscription


def rotate_secret(
    *, session: Session, subscription: Subscription, settings: Settings, now: datetime | None = None
) -> tuple[str, datetime]:
    """A new secret (shown once); every older secret still valid keeps signing until its own expiry, the one
    replaced now for the grace period. Returns (new secret, until when the replaced one signs)."""
    box = secret_box(settings)
    now = now or utcnow()
    current = SigningSecret(box.decrypt(subscription.secret_encrypted), created_at=now)
    older = previous_secrets(subscription, settings=settings)
    new, kept = signing.rotate([current, *older], now=now, grace=rotation_grace(settings))
    # kept[0] is the new one; a zero grace expires the replaced one at once
    previous = [p for p in kept[1:] if p.is_valid(now)][:MAX_PREVIOUS_SECRETS]
    subscription.secret_encrypted = box.encrypt(new)
    expiries = [p.expires_at for p in previous if p.expires_at is not None]
    subscription.previous_secret_encrypted = (
        box.encrypt(json.dumps([p.to_dict() for p in previous])) if previous else None
    )
    subscription.previous_secret_expires_at = max(expiries) if expiries else None
    session.add(subscription)
    return new, now + rotation_grace(settings)


def disable_subscription(*, session: Session, subscription: Subscription, reason: str) -> list[int]:
    """Disable the endpoint, park its pending deliveries as missed, tell the owner's other subscriptions.

    Returns the ids of the `endpoint.disabled` deliveries to enqueue after commit.
    """
    now = utcnow()
    subscription.enabled = False
    subscription.disabled_at = now
    subscription.disabled_reason = reason[:500]
    session.add(subscription)
    session.flush()
    store.mark_missed(session=session, subscription_id=subscription.id or 0)
    others = store.owner_subscriptions(
        session=session, owner_id=subscription.owner_id, exclude_id=subscription.id or 0
    )
    data = payload.endpoint_disabled_data(
        subscription_id=subscription.id or 0, url=subscription.url, reason=reason, disabled_at=now
    )
    return enqueue_event(
        session=session,
        event_type=payload.ENDPOINT_DISABLED,
        event_key=f"{payload.ENDPOINT_DISABLED}:{subscription.id}:{now.isoformat()}",
        data=data,
        subscriptions=others,
    )


class Reenabled(TypedDict):
    """What re-enabling a subscription reports: deliveries it missed, and those replayed."""

    missed: int
    replayed: list[int]


def enable_subscription(*, session: Session, subscription: Subscription, replay_missed: bool) -> Reenabled:
    """Re-enable; reports what it missed and, when asked, replays it. Returns {"missed", "replayed"}."""
    missed = store.count_by_status(session=session, subscription_id=subscription.id or 0, status=MISSED)
    subscription.enabled = True
    subscription.failing_since = None
    subscription.disabled_at = None
    subscription.disabled_reason = None
    session.add(subscription)
    session.flush()
    ids: list[int] = []
    if replay_missed:
        ids = store.replay(
            session=session, subscription_id=subscription.id or 0, now=utcnow(), statuses=(MISSED,)
        )
    return {"missed": missed, "replayed": ids}


def replay(
    *,
    session: Session,
    subscription: Subscription,
    since: datetime | None = None,
    delivery_id: int | None = None,
) -> list[int]:
    """Send again one delivery, or every failed or missed one since a time; the webhook-id is kept."""
    if not subscription.enabled:
        raise SubscriptionDisabled("the subscription is disabled; re-enable it first")
    if delivery_id is not None:
        d = session.get(Delivery, delivery_id)
        if d is None or d.subscription_id != subscription.id:
            raise SubscriptionError(
                f"delivery {delivery_id} does not belong to subscription {subscription.id}"
            )
        if d.status == PENDING:
            return [delivery_id]
    return store.replay(
        session=session,
        subscription_id=subscription.id or 0,
        now=utcnow(),
        since=since,
        delivery_id=delivery_id,
        statuses=(FAILED, MISSED),
    )


def create_ping(*, session: Session, subscription: Subscription) -> int:
    """Write a signed test ping for the subscription to the outbox; returns its delivery id."""
    ids = enqueue_event(
        session=session,
        event_type=payload.PING,
        event_key=f"{payload.PING}:{uuid.uuid4().hex}",
        data=payload.ping_data(subscription_id=subscription.id or 0),
        subscriptions=[subscription] if subscription.enabled else [],
    )
    if not ids:
        raise SubscriptionDisabled("the subscription is disabled; enable it first")
    return ids[0]
