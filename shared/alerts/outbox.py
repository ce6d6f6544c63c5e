"""The outbox's send side: claim a due delivery, send it through its channel, log the attempt, decide.

Three short steps, never one long transaction: (1) claim the row with a lease (`locked_until` + a token),
(2) send outside any transaction, under the endpoint's concurrency and rate limits, (3) record the attempt
and apply the retry policy. A worker killed between (1) and (3) leaves a lease that runs out; the sweep then
finds the row due again and it is sent again with the same webhook-id, which receivers deduplicate.

Long waits live in the database (`next_attempt_at`); a Celery countdown is only used for waits under a
minute (the task layer decides), so Redis's visibility timeout never re-delivers a sleeping message.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlmodel import Session

from shared import metrics
from shared.alerts import gate as gate_mod
from shared.alerts import limits as limits_mod
from shared.alerts import outbox_store as ostore
from shared.alerts import subscriptions as subs
from shared.alerts.channels import AttemptResult, ChannelRegistry, Message, registry_for
from shared.alerts.retry import Decision, Outcome, RetryPolicy
from shared.config import Settings
from shared.models import Subscription
from shared.models.base import to_utc, utcnow
from shared.models.delivery import FAILED, MISSED, PENDING, SUCCEEDED

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
        max_concurrent=sub.max_concurrent or settings.endpoint_max_concurrent,
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


def channels_for(settings: Settings) -> ChannelRegistry:
    """The process registry, its channels built from the settings (address policy, timeout, schemes)."""
    return registry_for(settings)


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


def _claim_batch(
    session: Session, delivery_ids: Sequence[int], token: str, settings: Settings
) -> tuple[list[_Claim], dict[int, SendOutcome]]:
    """One UPDATE claims every due row of the batch; rows of disabled endpoints are parked as missed."""
    now = utcnow()
    ostore.fast_commit(session)
    lease = timedelta(seconds=float(settings.delivery_lock_seconds))
    rows = ostore.claim_deliveries(
        session=session, delivery_ids=delivery_ids, token=token, now=now, lease=lease, slack=CLAIM_SLACK
    )
    out: dict[int, SendOutcome] = {i: SendOutcome("skipped") for i in delivery_ids}
    claims: list[_Claim] = []
    missed: list[int] = []
    for row in rows:
        sub = _sub_info(session, row.subscription_id, settings)
        if sub is None or not sub.enabled:
            missed.append(row.id)
            continue
        claims.append(_Claim(row.id, token, sub, row.msg_id, row.event_type, row.payload, row.attempts))
        del out[row.id]
    ostore.set_status(session=session, delivery_ids=missed, status=MISSED)
    return claims, out


@dataclass
class _Decided:
    claim: _Claim
    result: AttemptResult
    decision: Decision
    outcome: SendOutcome


_Verdict = tuple[_Decided, dict[str, Any], dict[str, Any]]


def _decide(
    claim: _Claim, result: AttemptResult, policy: RetryPolicy, settings: Settings, now: datetime
) -> _Verdict:
    """The retry policy's verdict on one attempt: (decided, attempt row values, delivery result values)."""
    number = claim.attempts + 1
    attempt = {
        "delivery_id": claim.delivery_id,
        "attempt_number": number,
        "attempted_at": now,
        "status_code": result.status_code,
        "duration_ms": result.duration_ms,
        "response_headers": result.response_headers,
        "response_body": result.response_body,
        "error": result.error,
    }
    failing_since = claim.sub.failing_since
    if not result.ok and failing_since is None:
        failing_since = now
    decision = policy.decide(
        attempts_made=number,
        status_code=result.status_code if result.error is None else None,
        retry_after=result.retry_after,
        failing_since=failing_since,
        now=now,
    )
    values: dict[str, Any] = {
        "attempts": number,
        "status": PENDING,
        "delivered_at": None,
        "next_attempt_at": None,
        "enqueued_until": None,
        "last_status_code": result.status_code,
        "last_error": None,
    }
    outcome: SendOutcome
    if decision.outcome is Outcome.DELIVERED:
        values.update(status=SUCCEEDED, delivered_at=now)
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
            values["status"] = FAILED
            outcome = SendOutcome("failed", result=result)
    return _Decided(claim, result, decision, outcome), attempt, values


def _record_batch(
    session: Session, token: str, done: Sequence[tuple[_Claim, AttemptResult]], settings: Settings
) -> dict[int, SendOutcome]:
    """Log every attempt and apply every verdict in one transaction; then endpoint health and disables."""
    now = utcnow()
    ostore.fast_commit(session)
    policy = RetryPolicy.from_settings(settings)
    decided: list[_Decided] = []
    attempts: list[dict[str, Any]] = []
    results: dict[int, dict[str, Any]] = {}
    for claim, result in done:
        d, attempt, values = _decide(claim, result, policy, settings, now)
        decided.append(d)
        attempts.append(attempt)
        results[claim.delivery_id] = values
    applied = ostore.record_attempts(session=session, token=token, attempts=attempts, results=results)
    out: dict[int, SendOutcome] = {}
    failing: dict[int, Any] = {}  # subscription id -> its failing_since as this batch moves it
    disable: dict[int, str] = {}
    for d in decided:
        c = d.claim
        if c.delivery_id not in applied:
            # our lease ran out and the row moved on (another worker, a replay, a disable): logged only
            out[c.delivery_id] = SendOutcome("skipped", result=d.result)
            continue
        out[c.delivery_id] = d.outcome
        if d.result.ok:
            _observe_sent(session, c.data, now)
        state = failing.get(c.sub.id, c.sub.failing_since)
        if d.result.ok and state is not None:
            ostore.mark_healthy(session=session, subscription_id=c.sub.id, now=now)
            failing[c.sub.id] = None
        elif not d.result.ok and state is None:
            ostore.mark_failing(session=session, subscription_id=c.sub.id, since=now)
            failing[c.sub.id] = now
        if d.decision.outcome is Outcome.DISABLE:
            disable.setdefault(c.sub.id, d.decision.reason)
    for sub_id in failing:
        forget_subscription(sub_id)
    for sub_id, reason in disable.items():
        sub = session.get(Subscription, sub_id)
        if sub is not None and sub.enabled:
            follow = subs.disable_subscription(session=session, subscription=sub, reason=reason)
            forget_subscription(sub_id)
            first = next(d for d in decided if d.claim.sub.id == sub_id and d.claim.delivery_id in applied)
            out[first.claim.delivery_id] = SendOutcome("disabled", result=first.result, follow_up=follow)
    return out


def _observe_sent(session: Session, data: Mapping[str, Any], sent: datetime) -> None:
    """matched → sent latency of a delivered alert (its data carries when it was matched)."""
    latency = data.get("latency")
    matched = latency.get("matched") if isinstance(latency, Mapping) else None
    if isinstance(matched, str):
        with contextlib.suppress(ValueError):
            at = datetime.fromisoformat(matched.replace("Z", "+00:00"))
            metrics.observe_on_commit(session, "matched_to_sent", [(sent - at).total_seconds()])


# Sends of one batch run side by side; each runs under one of its endpoint's permits, so limits hold.
_SENDERS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="newswatch-deliver")
_ENDPOINTS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="newswatch-endpoint")
_GATE = gate_mod.ProcessGate()

_Sent = AttemptResult | limits_mod.Permit  # a refused permit: the endpoint is at its limit, no attempt spent


def _send_to_endpoint(
    claims: Sequence[_Claim], lim: limits_mod.Limiter, reg: ChannelRegistry, budget: float
) -> list[_Sent]:
    """Send one endpoint's claims under its limits: its permits taken in one limiter call (up to one per
    claim, as many as are free), each permit a lane that sends claims one after the other, all given back in
    one call. A claim that has not started `budget` s after the lanes began waits for a later task (as one
    waiting that long for a permit did before), so a hanging endpoint holds a task for a bounded time."""
    sub = claims[0].sub
    endpoint = f"sub{sub.id}"
    permits, places = gate_mod.take_many(lim, _GATE, endpoint, sub.limits, len(claims), budget)
    if not places:
        return [permits[0]] * len(claims)
    results: list[_Sent | None] = [None] * len(claims)
    queue = list(range(len(claims)))
    queue.reverse()
    lock = threading.Lock()
    started = time.monotonic()
    lease = sub.limits.lease_seconds
    timeout = float(reg.config.timeout if reg.config else 0.0)

    def lane(permit: limits_mod.Permit) -> limits_mod.Permit:
        """Send claims one after the other under this permit; returns the permit it holds at the end."""
        taken = time.monotonic()
        first = True
        while True:
            with lock:
                if not queue:
                    return permit
                i = queue.pop()
            if not first and time.monotonic() - started > budget:
                results[i] = limits_mod.Permit(endpoint, False, retry_in=limits_mod.slot_wait())
                continue
            if not first and (sub.limits.rate_per_second > 0 or time.monotonic() - taken + timeout > lease):
                # a rate token per request, and never a request that could outlive the slot's lease
                lim.release_many([permit])
                permit, taken = lim.acquire(endpoint, sub.limits), time.monotonic()
                if not permit.granted:
                    results[i] = permit  # this lane ends; the other lanes take what is left
                    return permit
            first = False
            c = claims[i]
            message = Message(
                target=sub.url,
                msg_id=c.msg_id,
                event_type=c.event_type,
                data=c.data,
                secrets=tuple(sub.secrets),
            )
            results[i] = reg.send(message)

    try:
        held = [lane(permits[0])] if len(permits) == 1 else list(_SENDERS.map(lane, permits))
    finally:
        for place in places:
            _GATE.leave(place)
    lim.release_many([p for p in held if p.granted])
    left = limits_mod.Permit(endpoint, False, retry_in=limits_mod.slot_wait(), reason="concurrency")
    return [r if r is not None else left for r in results]


def deliver_many(
    *,
    delivery_ids: Sequence[int],
    settings: Settings,
    session_factory: SessionFactory,
    channels: ChannelRegistry | None = None,
    limiter: limits_mod.Limiter | None = None,
) -> dict[int, SendOutcome]:
    """One attempt at each due delivery no other worker holds: one claim transaction, the sends in
    parallel under each endpoint's limits, one transaction recording every result. Returns an outcome per
    id."""
    token = uuid.uuid4().hex
    ids = list(dict.fromkeys(delivery_ids))
    with session_factory() as session:
        claims, out = _claim_batch(session, ids, token, settings)
    if not claims:
        return out
    lim = limits_mod.FailOpen(limiter or limiter_for(settings))
    reg = channels or channels_for(settings)

    # A full endpoint frees a slot as soon as one of its requests ends: wait a little for it (bounded, so a
    # hanging endpoint holds a sender for at most this long) before handing the delivery back.
    wait_budget = PERMIT_WAIT if len(claims) > 1 else PERMIT_WAIT / 4
    groups: dict[int, list[_Claim]] = {}
    for c in claims:
        groups.setdefault(c.sub.id, []).append(c)

    def group(members: list[_Claim]) -> list[_Sent]:
        return _send_to_endpoint(members, lim, reg, wait_budget)

    sent = [group(claims)] if len(groups) == 1 else list(_ENDPOINTS.map(group, groups.values()))
    result_of = {
        c.delivery_id: r
        for members, rs in zip(groups.values(), sent, strict=True)
        for c, r in zip(members, rs, strict=True)
    }
    results = [result_of[c.delivery_id] for c in claims]
    done: list[tuple[_Claim, AttemptResult]] = []
    with session_factory() as session:
        for c, r in zip(claims, results, strict=True):
            if isinstance(r, limits_mod.Permit):  # the endpoint is at its limit: back soon, no attempt spent
                until = utcnow() + timedelta(seconds=r.retry_in)
                grace = enqueue_grace(settings)
                ostore.postpone(
                    session=session, delivery_id=c.delivery_id, token=token, until=until, grace=grace
                )
                out[c.delivery_id] = SendOutcome("throttled", retry_in=r.retry_in)
            else:
                done.append((c, r))
        if done:
            out.update(_record_batch(session, token, done, settings))
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
    return ostore.claim_due_for_enqueue(
        session=session, now=utcnow(), grace=enqueue_grace(settings), limit=limit
    )
