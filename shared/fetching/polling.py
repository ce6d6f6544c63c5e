"""Adaptive polling intervals, backoff and feed health, as pure functions over a `PollState`.

The store maps a feed row to `PollState`, calls `after_success` / `after_failure`, and writes the result back;
nothing here touches the clock except through the `now` argument.

Health:
    ok        last fetch succeeded and items arrive in the feed's usual rhythm
    degraded  1..failing_after-1 consecutive failures
    failing   failing_after or more consecutive failures
    stale     fetches succeed but no new item for stale_factor × the usual gap (at least stale_min)
Entering failing or stale (from ok or degraded) is what emits a `feed.unhealthy` event.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = [
    "FeedHealth",
    "PollPolicy",
    "PollState",
    "after_failure",
    "after_success",
    "backoff_seconds",
    "cache_max_age",
    "health_of",
    "is_unhealthy_transition",
    "publishing_gap",
]


class FeedHealth(StrEnum):
    """Health of a feed, shown by the API."""

    OK = "ok"
    DEGRADED = "degraded"
    FAILING = "failing"
    STALE = "stale"


UNHEALTHY = frozenset({FeedHealth.FAILING, FeedHealth.STALE})


@dataclass(frozen=True)
class PollPolicy:
    """Bounds of the adaptive schedule (seconds) and health thresholds."""

    floor: float = 5 * 60
    ceiling: float = 6 * 3600
    default: float = 30 * 60
    max_backoff: float = 24 * 3600
    max_retry_after: float = 7 * 24 * 3600
    polls_per_gap: float = 2.0
    failing_after: int = 3
    stale_factor: float = 10.0
    stale_min: float = 2 * 24 * 3600
    stale_default: float = 14 * 24 * 3600


@dataclass(frozen=True)
class PollState:
    """What the schedule needs to remember about one feed."""

    interval: float
    consecutive_failures: int = 0
    health: FeedHealth = FeedHealth.OK
    usual_gap: float | None = None
    last_success_at: datetime | None = None
    last_new_item_at: datetime | None = None
    last_error: str | None = None
    next_poll_at: datetime | None = None


def publishing_gap(published: Iterable[datetime | None], *, window: int = 20) -> float | None:
    """Median gap in seconds between the newest `window` distinct publication times; None if < 2 dates."""
    times = sorted({p for p in published if p is not None}, reverse=True)[:window]
    if len(times) < 2:
        return None
    gaps = [(a - b).total_seconds() for a, b in itertools.pairwise(times)]
    return max(1.0, statistics.median(gaps))


_MAX_AGE = re.compile(r"(?:^|,)\s*(s-maxage|max-age)\s*=\s*\"?(\d+)", re.I)


def cache_max_age(headers: Mapping[str, str]) -> float | None:
    """Seconds from Cache-Control max-age (s-maxage preferred); None when absent or no-cache/no-store."""
    value = next((v for k, v in headers.items() if k.lower() == "cache-control"), "")
    if not value or re.search(r"no-store|no-cache", value, re.I):
        return None
    found = dict((k.lower(), int(v)) for k, v in _MAX_AGE.findall(value))
    age = found.get("s-maxage", found.get("max-age"))
    return float(age) if age is not None else None


def backoff_seconds(failures: int, base: float, policy: PollPolicy) -> float:
    """Exponential backoff after `failures` consecutive failures: base × 2^(failures-1), capped."""
    if failures <= 0:
        return base
    factor: int = 2 ** min(failures - 1, 20)  # int ** int is typed Any (a negative power is a float)
    return min(policy.max_backoff, max(policy.floor, base) * factor)


def _clamp(seconds: float, policy: PollPolicy) -> float:
    return min(policy.ceiling, max(policy.floor, seconds))


def health_of(state: PollState, *, now: datetime, policy: PollPolicy) -> FeedHealth:
    """Health from failures and the time since the last new item, measured against the feed's rhythm."""
    if state.consecutive_failures >= policy.failing_after:
        return FeedHealth.FAILING
    if state.consecutive_failures > 0:
        return FeedHealth.DEGRADED
    if state.last_new_item_at is not None:
        limit = (
            max(policy.stale_min, policy.stale_factor * state.usual_gap)
            if state.usual_gap
            else policy.stale_default
        )
        if (now - state.last_new_item_at).total_seconds() > limit:
            return FeedHealth.STALE
    return FeedHealth.OK


def is_unhealthy_transition(old: FeedHealth, new: FeedHealth) -> bool:
    """True when the feed just entered failing or stale (the moment to emit `feed.unhealthy`)."""
    return new in UNHEALTHY and old not in UNHEALTHY


def after_success(
    state: PollState,
    *,
    now: datetime,
    new_items: int,
    published: Iterable[datetime | None] = (),
    ttl_minutes: int | None = None,
    headers: Mapping[str, str] | None = None,
    policy: PollPolicy | None = None,
) -> PollState:
    """The state after a successful fetch (304 included): adaptive interval, failures reset, health."""
    policy = policy or PollPolicy()
    gap = publishing_gap(published)
    usual = gap if gap is not None else state.usual_gap
    if usual is not None:
        interval = _clamp(usual / policy.polls_per_gap, policy)
    else:
        interval = _clamp(state.interval or policy.default, policy)
    if new_items == 0 and usual is None:
        # Quiet feed with no known rhythm: slow down gently until something arrives.
        interval = _clamp(interval * 1.5, policy)
    # The server's own hints are lower bounds: never poll more often than it asks (may exceed the ceiling).
    hints = [policy.floor]
    if ttl_minutes:
        hints.append(ttl_minutes * 60.0)
    max_age = cache_max_age(headers or {})
    if max_age:
        hints.append(max_age)
    interval = max(interval, min(max(hints), policy.max_retry_after))
    last_new = now if new_items > 0 else state.last_new_item_at
    new = replace(
        state,
        interval=interval,
        consecutive_failures=0,
        usual_gap=usual,
        last_success_at=now,
        last_new_item_at=last_new,
        last_error=None,
        next_poll_at=now + timedelta(seconds=interval),
    )
    return replace(new, health=health_of(new, now=now, policy=policy))


def after_failure(
    state: PollState,
    *,
    now: datetime,
    error: str,
    retry_after: float | None = None,
    policy: PollPolicy | None = None,
) -> PollState:
    """The state after a failed fetch: exponential backoff (Retry-After honoured), error kept, health."""
    policy = policy or PollPolicy()
    failures = state.consecutive_failures + 1
    delay = backoff_seconds(failures, state.interval or policy.default, policy)
    if retry_after is not None:
        delay = max(delay, min(retry_after, policy.max_retry_after))
    new = replace(
        state,
        consecutive_failures=failures,
        last_error=error[:2000],
        next_poll_at=now + timedelta(seconds=delay),
    )
    return replace(new, health=health_of(new, now=now, policy=policy))
