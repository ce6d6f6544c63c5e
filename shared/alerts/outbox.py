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
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
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
from shared.models import DeliveryAttempt, Subscription
from shared.models.base import to_utc, utcnow
from shared.models.delivery import FAILED, MISSED, SUCCEEDED

log = logging.getLogger(__name__)

SessionFactory = Callable[[], AbstractContextManager[Session]]
CLAIM_SLACK = timedelta(seconds=0.5)  # a countdown may fire a moment early
PERMIT_WAIT = 2.0  # seconds a batch waits for a slot of a full endpoint before postponing


@dataclass
class SendOutcome:
    """What one deliver step did; `retry_in` when the next try is due soon; `follow_up` ids to enqueue."""

    status: str  # sent, retry, failed, disabled, throttled, skipped
    retry_in: float | None = None
    follow_up: list[int] = field(default_factory=list)
    result: AttemptResult | None = None


def enqueue_grace(settings: Settings) -> timedelta:
    """How long an enqueued delivery is left to its message before the sweep enqueues it again."""
    seconds = settings.delivery_enqueue_grace_seconds
    if seconds is None:  # a few sweep periods: long enough for a queued message, short enough to recover
        seconds = max(5.0, 3 * float(settings.delivery_sweep_seconds))
    return timedelta(seconds=float(seconds))


def endpoint_limits(sub: Subscription, settings: Settings) -> limits_mod.EndpointLimits:
    """The subscription's limits, or the defaults from settings."""
    timeout = float(settings.webhook_timeout_seconds)
    return limits_mod.EndpointLimits(
        max_concurrent=sub.max_concurrent
        or settings.endpoint_max_concurrent,
        rate_per_second=sub.rate_per_second or settings.endpoint_rate_per_second,
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


@dataclass(frozen=True)
class _SubInfo:
    id: int
    url: str
    enabled: bool
    secrets: list[str]
    limits: limits_mod.EndpointLimits
    failing_since: Any


# Subscriptions change rarely and every delivery needs one: a short per-process cache saves a query and a
# decryption per delivery. A change made through this process drops the entry at once; elsewhere it is seen
# within the TTL (a disabled endpoint may get one more attempt in that second).
_SUB_TTL = 1.0
_SUBS: dict[int, tuple[float, _SubInfo]] = {}


def _sub_info(session: Session, sub_id: int, settings: Settings) -> _SubInfo | None:
    hit = _SUBS.get(sub_id)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    sub = session.get(Subscription, sub_id)
    if sub is None:
        _SUBS.pop(sub_id, None)
        return None
    info = _SubInfo(
        id=sub_id,
        url=sub.url,
        enabled=sub.enabled,
        secrets=subs.signing_secrets(sub, settings=settings) if sub.enabled else [],
        limits=endpoint_limits(sub, settings),
        failing_since=to_utc(sub.failing_since),
    )
    _SUBS[sub_id] = (time.monotonic() + _SUB_TTL, info)
    return info


def forget_subscription(sub_id: int | None = None) -> None:
    """Drop a subscription (None: all of them) from this process's cache, after changing it."""
    if sub_id is None:
        _SUBS.clear()
    else:
        _SUBS.pop(sub_id, None)


@dataclass
class _Claim:
    delivery_id: int
    token: str
    sub: _SubInfo
    msg_id: str
    event_type: str
    data: dict[str, Any]
    attempts: int


def _claim(session: Session, delivery_id: int, token: str, settings: Settings) -> _Claim | SendOutcome:
    now = utcnow()
    store.fast_commit(session)
    lease = timedelta(seconds=float(settings.delivery_lock_seconds))
    row = store.claim_delivery(
        session=session, delivery_id=delivery_id, token=token, now=now, lease=lease, slack=CLAIM_SLACK
    )
    if row is None:
        return SendOutcome("skipped")
    sub = _sub_info(session, row.subscription_id, settings)
    if sub is None or not sub.enabled:
        store.set_status(session=session, delivery_id=delivery_id, status=MISSED)
        return SendOutcome("skipped")
    return _Claim(delivery_id, token, sub, row.msg_id, row.event_type, dict(row.payload), row.attempts)


def _record(session: Session, claim: _Claim, result: AttemptResult, settings: Settings) -> SendOutcome:
    now = utcnow()
    store.fast_commit(session)
    number = claim.attempts + 1
    attempt = DeliveryAttempt(
        delivery_id=claim.delivery_id,
        attempt_number=number,
        attempted_at=now,
        status_code=result.status_code,
        duration_ms=result.duration_ms,
        response_headers=result.response_headers,
        response_body=result.response_body,
        error=result.error,
    )
    failing_since = claim.sub.failing_since
    if not result.ok and failing_since is None:
        failing_since = now
    decision = RetryPolicy.from_settings(settings).decide(
        attempts_made=number,
        status_code=result.status_code if result.error is None else None,
        retry_after=result.retry_after,
        failing_since=failing_since,
        now=now,
    )
    values: dict[str, Any] = {
        "attempts": number,
        "locked_until": None,
        "lock_token": None,
        "last_status_code": result.status_code,
    }
    outcome: SendOutcome
    if decision.outcome is Outcome.DELIVERED:
        values.update(status=SUCCEEDED, delivered_at=now, next_attempt_at=None, last_error=None)
        outcome = SendOutcome("sent", result=result)
    else:
        values["last_error"] = (result.error or decision.reason)[:2000]
        if decision.outcome is Outcome.RETRY:
            delay = decision.delay or 0.0
            values["next_attempt_at"] = decision.next_attempt_at
            values["enqueued_until"] = (
                now + timedelta(seconds=delay) + enqueue_grace(settings) if delay <= 60 else None
            )
            outcome = SendOutcome("retry", retry_in=delay, result=result)
        else:
            values.update(status=FAILED, next_attempt_at=None)
            outcome = SendOutcome("failed", result=result)
    applied = store.finish_attempt(
        session=session, delivery_id=claim.delivery_id, token=claim.token, attempt=attempt, values=values
    )
    if not applied:
        # our lease ran out and the row moved on (another worker, a replay, a disable): logged only
        return SendOutcome("skipped", result=result)
    if result.ok and claim.sub.failing_since is not None:
        store.mark_healthy(session=session, subscription_id=claim.sub.id, now=now)
        forget_subscription(claim.sub.id)
    elif not result.ok and claim.sub.failing_since is None:
        store.mark_failing(session=session, subscription_id=claim.sub.id, since=now)
        forget_subscription(claim.sub.id)
    if decision.outcome is Outcome.DISABLE:
        sub = session.get(Subscription, claim.sub.id)
        if sub is not None and sub.enabled:
            follow = subs.disable_subscription(session=session, subscription=sub, reason=decision.reason)
            forget_subscription(claim.sub.id)
            outcome = SendOutcome("disabled", result=result, follow_up=follow)
    return outcome


# Sends of one batch run side by side; each still takes its endpoint's permit, so limits hold.
_SENDERS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="newswatch-deliver")


def deliver_many(
    *,
    delivery_ids: Sequence[int],
    settings: Settings,
    session_factory: SessionFactory,
    channels: ChannelRegistry | None = None,
    limiter: limits_mod.Limiter | None = None,
) -> dict[int, SendOutcome]:
    """One attempt at each due delivery no other worker holds: one claim transaction, the sends in
    parallel, one transaction recording every result. Returns an outcome per id."""
    token = uuid.uuid4().hex
    out: dict[int, SendOutcome] = {}
    claims: list[_Claim] = []
    with session_factory() as session:
        for delivery_id in dict.fromkeys(delivery_ids):
            claimed = _claim(session, delivery_id, token, settings)
            if isinstance(claimed, SendOutcome):
                out[delivery_id] = claimed
            else:
                claims.append(claimed)
    if not claims:
        return out
    lim = _FailOpen(limiter or limiter_for(settings))
    reg = channels or channels_for(settings)

    # A full endpoint frees a slot as soon as one of its requests ends: wait a little for it (bounded, so a
    # hanging endpoint holds a sender for at most this long) before handing the delivery back.
    wait_budget = PERMIT_WAIT if len(claims) > 1 else PERMIT_WAIT / 4

    def attempt(c: _Claim) -> AttemptResult | limits_mod.Permit:
        deadline = time.monotonic() + wait_budget
        permit = lim.acquire(f"sub{c.sub.id}", c.sub.limits)
        while not permit.granted and time.monotonic() + permit.retry_in < deadline:
            time.sleep(permit.retry_in)
            permit = lim.acquire(f"sub{c.sub.id}", c.sub.limits)
        if not permit.granted:
            return permit
        try:
            message = Message(
                target=c.sub.url,
                msg_id=c.msg_id,
                event_type=c.event_type,
                data=c.data,
                secrets=tuple(c.sub.secrets),
            )
            return reg.for_target(c.sub.url).send(message)
        finally:
            lim.release(permit)

    results = [attempt(claims[0])] if len(claims) == 1 else list(_SENDERS.map(attempt, claims))
    with session_factory() as session:
        for c, r in zip(claims, results, strict=True):
            if isinstance(r, limits_mod.Permit):  # the endpoint is at its limit: back soon, no attempt spent
                until = utcnow() + timedelta(seconds=r.retry_in)
                grace = enqueue_grace(settings)
                store.postpone(
                    session=session, delivery_id=c.delivery_id, token=token, until=until, grace=grace
                )
                out[c.delivery_id] = SendOutcome("throttled", retry_in=r.retry_in)
            else:
                out[c.delivery_id] = _record(session, c, r, settings)
    return out


def deliver(
    *,
    delivery_id: int,
    settings: Settings,
    session_factory: SessionFactory,
    channels: ChannelRegistry | None = None,
    limiter: limits_mod.Limiter | None = None,
) -> SendOutcome:
    """One attempt at one delivery, if it is due and no other worker holds it."""
    return deliver_many(
        delivery_ids=[delivery_id],
        settings=settings,
        session_factory=session_factory,
        channels=channels,
        limiter=limiter,
    )[delivery_id]


def sweep(*, session: Session, settings: Settings, limit: int = 1000) -> list[int]:
    """Claim due deliveries for enqueueing (SKIP LOCKED); the caller enqueues them after commit."""
    return store.claim_due_for_enqueue(
        session=session, now=utcnow(), grace=enqueue_grace(settings), limit=limit
    )
