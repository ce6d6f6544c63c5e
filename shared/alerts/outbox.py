"""The outbox's send side: claim a due delivery, send it through its channel, log the attempt, decide.

Three short steps, never one long transaction: (1) claim the row with a lease (`locked_until` + a token),
(2) send outside any transaction, under the endpoint's concurrency and rate limits, (3) record the attempt
and apply the retry policy. A worker killed between (1) and (3) leaves a lease that runs out; the sweep then
finds the row due again and it is sent again with the same webhook-id, which receivers deduplicate.

Long waits live in the database (`next_attempt_at`); a Celery countdown is only used for waits under a
minute (the task layer decides), so Redis's visibility timeout never re-delivers a sleeping message.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any

from sqlmodel import Session

from shared.alerts import limits as limits_mod
from shared.alerts import store
from shared.alerts import subscriptions as subs
from shared.alerts.channels import AttemptResult, ChannelRegistry, Message, registry
from shared.alerts.retry import Outcome, RetryPolicy
from shared.config import Settings
from shared.models import Delivery, DeliveryAttempt, Subscription
from shared.models.base import to_utc, utcnow
from shared.models.delivery import FAILED, MISSED, SUCCEEDED

log = logging.getLogger(__name__)

SessionFactory = Callable[[], AbstractContextManager[Session]]
CLAIM_SLACK = timedelta(seconds=0.5)  # a countdown may fire a moment early


@dataclass
class SendOutcome:
    """What one deliver step did; `retry_in` when the next try is due soon; `follow_up` ids to enqueue."""

    status: str  # sent, retry, failed, disabled, throttled, skipped
    retry_in: float | None = None
    follow_up: list[int] = field(default_factory=list)
    result: AttemptResult | None = None


@dataclass
class _Claimed:
    url: str
    msg_id: str
    event_type: str
    data: dict[str, Any]
    secrets: list[str]
    endpoint: str
    limits: limits_mod.EndpointLimits


def enqueue_grace(settings: Settings) -> timedelta:
    """How long an enqueued delivery is left to its message before the sweep enqueues it again."""
    seconds = getattr(settings, "delivery_enqueue_grace_seconds", None)
    if seconds is None:  # a few sweep periods: long enough for a queued message, short enough to recover
        seconds = max(5.0, 3 * float(settings.delivery_sweep_seconds))
    return timedelta(seconds=float(seconds))


def endpoint_limits(sub: Subscription, settings: Settings) -> limits_mod.EndpointLimits:
    """The subscription's limits, or the defaults from settings."""
    timeout = float(settings.webhook_timeout_seconds)
    return limits_mod.EndpointLimits(
        max_concurrent=sub.max_concurrent or int(getattr(settings, "endpoint_max_concurrent", 4)),
        rate_per_second=sub.rate_per_second or float(getattr(settings, "endpoint_rate_per_second", 0.0)),
        lease_seconds=timeout + 15.0,
    )


_LOCAL_LIMITER = limits_mod.LocalLimiter()


@lru_cache(maxsize=4)
def _redis_limiter(url: str) -> limits_mod.RedisLimiter:
    import redis

    return limits_mod.RedisLimiter(redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5))


def limiter_for(settings: Settings) -> limits_mod.Limiter:
    """Redis-shared limits in the distributed mode, in-process ones in the embedded mode."""
    if settings.mode == "embedded":
        return _LOCAL_LIMITER
    return _redis_limiter(settings.redis_url)


class _FailOpen:
    """When Redis is unreachable, send without the shared limit rather than not at all."""

    def __init__(self, inner: limits_mod.Limiter) -> None:
        self.inner = inner

    def acquire(self, endpoint: str, limits: limits_mod.EndpointLimits) -> limits_mod.Permit:
        try:
            return self.inner.acquire(endpoint, limits)
        except Exception as exc:  # redis errors of any kind: the database stays the source of truth
            log.warning("endpoint limiter unavailable (%s); sending without it", exc)
            return limits_mod.Permit(endpoint, True, token="")

    def release(self, permit: limits_mod.Permit) -> None:
        if permit.token:
            try:
                self.inner.release(permit)
            except Exception as exc:  # the lease expires on its own
                log.warning("could not release endpoint slot: %s", exc)


_CONFIGURED: list[tuple[Any, ...]] = []


def channels_for(settings: Settings) -> ChannelRegistry:
    """The process registry, its built-in channels set to the settings' address policy and timeout."""
    key = (tuple(settings.allowed_networks), float(settings.webhook_timeout_seconds))
    if not _CONFIGURED or _CONFIGURED[0] != key:
        registry.configure(policy=settings.address_policy(), timeout=key[1])
        _CONFIGURED[:] = [key]
    return registry


def _claim(session: Session, delivery_id: int, token: str, settings: Settings) -> _Claimed | SendOutcome:
    now = utcnow()
    lease = timedelta(seconds=float(settings.delivery_lock_seconds))
    row = store.claim_delivery(
        session=session, delivery_id=delivery_id, token=token, now=now, lease=lease, slack=CLAIM_SLACK
    )
    if row is None:
        return SendOutcome("skipped")
    sub = session.get(Subscription, row.subscription_id)
    if sub is None or not sub.enabled:
        row.status, row.next_attempt_at, row.locked_until, row.lock_token = MISSED, None, None, None
        session.add(row)
        return SendOutcome("skipped")
    return _Claimed(
        url=sub.url,
        msg_id=row.msg_id,
        event_type=row.event_type,
        data=dict(row.payload),
        secrets=subs.signing_secrets(sub, settings=settings),
        endpoint=f"sub{sub.id}",
        limits=endpoint_limits(sub, settings),
    )


def _record(
    session: Session, delivery_id: int, token: str, result: AttemptResult, settings: Settings
) -> SendOutcome:
    row = session.get(Delivery, delivery_id, with_for_update=True)
    if row is None:
        return SendOutcome("skipped", result=result)
    now = utcnow()
    row.attempts += 1
    session.add(
        DeliveryAttempt(
            delivery_id=delivery_id,
            attempt_number=row.attempts,
            attempted_at=now,
            status_code=result.status_code,
            duration_ms=result.duration_ms,
            response_headers=result.response_headers,
            response_body=result.response_body,
            error=result.error,
        )
    )
    if row.lock_token != token or row.status != "pending":
        # our lease ran out and the row moved on (another worker, a replay, a disable): log only
        session.add(row)
        return SendOutcome("skipped", result=result)
    sub = session.get(Subscription, row.subscription_id)
    failing_since = to_utc(sub.failing_since) if sub is not None else None
    if not result.ok and failing_since is None:
        failing_since = now
    decision = RetryPolicy.from_settings(settings).decide(
        attempts_made=row.attempts,
        status_code=result.status_code if result.error is None else None,
        retry_after=result.retry_after,
        failing_since=failing_since,
        now=now,
    )
    row.locked_until, row.lock_token = None, None
    row.last_status_code = result.status_code
    outcome: SendOutcome
    if decision.outcome is Outcome.DELIVERED:
        row.status, row.delivered_at, row.next_attempt_at, row.last_error = SUCCEEDED, now, None, None
        if sub is not None and (sub.failing_since is not None or sub.last_success_at is None):
            sub.failing_since, sub.last_success_at = None, now
            session.add(sub)
        outcome = SendOutcome("sent", result=result)
    else:
        row.last_error = (result.error or decision.reason)[:2000]
        if sub is not None and sub.failing_since is None:
            sub.failing_since = now
            session.add(sub)
        if decision.outcome is Outcome.RETRY:
            row.next_attempt_at = decision.next_attempt_at
            delay = decision.delay or 0.0
            row.enqueued_until = (
                now + timedelta(seconds=delay) + enqueue_grace(settings) if delay <= 60 else None
            )
            outcome = SendOutcome("retry", retry_in=delay, result=result)
        else:
            row.status, row.next_attempt_at = FAILED, None
            outcome = SendOutcome("failed", result=result)
            if decision.outcome is Outcome.DISABLE and sub is not None and sub.enabled:
                session.add(row)
                outcome = SendOutcome(
                    "disabled",
                    result=result,
                    follow_up=subs.disable_subscription(
                        session=session, subscription=sub, reason=decision.reason
                    ),
                )
    session.add(row)
    return outcome


def deliver(
    *,
    delivery_id: int,
    settings: Settings,
    session_factory: SessionFactory,
    channels: ChannelRegistry | None = None,
    limiter: limits_mod.Limiter | None = None,
) -> SendOutcome:
    """One attempt at one delivery, if it is due and no other worker holds it."""
    token = uuid.uuid4().hex
    with session_factory() as session:
        claimed = _claim(session, delivery_id, token, settings)
    if isinstance(claimed, SendOutcome):
        return claimed
    lim = _FailOpen(limiter or limiter_for(settings))
    permit = lim.acquire(claimed.endpoint, claimed.limits)
    if not permit.granted:
        until = utcnow() + timedelta(seconds=permit.retry_in)
        with session_factory() as session:
            store.postpone(
                session=session,
                delivery_id=delivery_id,
                token=token,
                until=until,
                grace=enqueue_grace(settings),
            )
        return SendOutcome("throttled", retry_in=permit.retry_in)
    try:
        channel = (channels or channels_for(settings)).for_target(claimed.url)
        result = channel.send(
            Message(
                target=claimed.url,
                msg_id=claimed.msg_id,
                event_type=claimed.event_type,
                data=claimed.data,
                secrets=tuple(claimed.secrets),
            )
        )
    finally:
        lim.release(permit)
    with session_factory() as session:
        return _record(session, delivery_id, token, result, settings)


def sweep(*, session: Session, settings: Settings, limit: int = 1000) -> list[int]:
    """Claim due deliveries for enqueueing (SKIP LOCKED); the caller enqueues them after commit."""
    return store.claim_due_for_enqueue(
        session=session, now=utcnow(), grace=enqueue_grace(settings), limit=limit
    )
