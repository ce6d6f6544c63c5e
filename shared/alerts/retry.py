"""Retry policy for deliveries: the schedule, jitter, Retry-After, and the retry / failed / disable decision.

The schedule lives in the database (a delivery's next attempt time); this module only computes it. Attempt 1
is immediate, then each failure waits the next step of the schedule (±20% jitter so a recovering receiver is
not hit by a synchronised herd). A `Retry-After` header (seconds or HTTP date) is honoured, capped, and never
makes a retry come sooner than the schedule says.

A 410 Gone disables the endpoint at once; an endpoint that has failed without a single success for longer than
`disable_after` (default 5 days) is disabled too. Any other non-2xx answer, a timeout or a connection error is
retried until the schedule is exhausted, then the delivery is failed (a dead letter).
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

# Seconds before attempt 1, 2, ... : immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
DEFAULT_JITTER = 0.2
DEFAULT_RETRY_AFTER_CAP = 3600.0
DEFAULT_DISABLE_AFTER = timedelta(days=5)


class Outcome(enum.StrEnum):
    """What to do with a delivery after an attempt."""

    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"
    DISABLE = "disable"  # the delivery fails and the endpoint is disabled


@dataclass(frozen=True)
class Decision:
    """The outcome of one attempt and, for RETRY, when to try next."""

    outcome: Outcome
    next_attempt_at: datetime | None = None
    delay: float | None = None
    reason: str = ""


def parse_schedule(value: str | Sequence[float | int | str]) -> tuple[float, ...]:
    """Parse a schedule like "0,5s,5m,30m,2h,5h,10h,10h" (plain numbers are seconds)."""
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    out: list[float] = []
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    for item in items:
        if isinstance(item, int | float):
            seconds = float(item)
        else:
            text = item.strip().lower()
            mult = units.get(text[-1:])
            seconds = float(text[:-1]) * mult if mult else float(text)
        if seconds < 0:
            raise ValueError(f"negative delay in retry schedule: {item!r}")
        out.append(seconds)
    if not out:
        raise ValueError("the retry schedule needs at least one attempt")
    return tuple(out)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP date); None when absent or invalid."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def is_success(status_code: int | None) -> bool:
    """2xx counts as delivered; anything else (and no answer at all) is a failure."""
    return status_code is not None and 200 <= status_code < 300


@dataclass(frozen=True)
class RetryPolicy:
    """Schedule, jitter, Retry-After cap and the endpoint-disabling period."""

    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    jitter: float = DEFAULT_JITTER
    retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP
    disable_after: timedelta = DEFAULT_DISABLE_AFTER

    def __post_init__(self) -> None:
        if not self.schedule:
            raise ValueError("the retry schedule needs at least one attempt")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")

    @classmethod
    def from_settings(cls, settings: Any) -> RetryPolicy:
        """Build from the Settings object; missing attributes fall back to the defaults."""
        schedule = getattr(settings, "retry_schedule", None)
        disable = getattr(settings, "webhook_disable_after_seconds", None)
        if isinstance(disable, int | float):
            disable = timedelta(seconds=disable)
        return cls(
            schedule=parse_schedule(schedule) if schedule else DEFAULT_SCHEDULE,
            jitter=float(getattr(settings, "webhook_retry_jitter", DEFAULT_JITTER)),
            retry_after_cap=float(getattr(settings, "retry_after_cap_seconds", DEFAULT_RETRY_AFTER_CAP)),
            disable_after=disable or DEFAULT_DISABLE_AFTER,
        )

    @property
    def max_attempts(self) -> int:
        """How many attempts a delivery gets before it is failed."""
        return len(self.schedule)

    def delay_before(self, attempt: int, *, rng: random.Random | None = None) -> float | None:
        """Jittered seconds to wait before attempt number `attempt` (1-based); None past the schedule."""
        if attempt < 1 or attempt > len(self.schedule):
            return None
        base = self.schedule[attempt - 1]
        if base == 0 or self.jitter == 0:
            return base
        r = (rng or random).uniform(-self.jitter, self.jitter)
        return base * (1 + r)

    def decide(
        self,
        *,
        attempts_made: int,
        status_code: int | None,
        retry_after: str | None = None,
        failing_since: datetime | None = None,
        now: datetime | None = None,
        rng: random.Random | None = None,
    ) -> Decision:
        """Decide after attempt `attempts_made` (1-based) answered `status_code` (None: no answer).

        `failing_since` is when the endpoint's current run of failures began (None when its last attempt
        succeeded); this attempt's failure counts as part of that run.
        """
        now = now or datetime.now(UTC)
        if is_success(status_code):
            return Decision(Outcome.DELIVERED, reason=f"HTTP {status_code}")
        what = f"HTTP {status_code}" if status_code is not None else "no answer"
        if status_code == 410:
            return Decision(Outcome.DISABLE, reason="endpoint answered 410 Gone")
        if failing_since is not None and now - failing_since >= self.disable_after:
            return Decision(
                Outcome.DISABLE,
                reason=f"endpoint failing since {failing_since.isoformat()} (> {self.disable_after})",
            )
        delay = self.delay_before(attempts_made + 1, rng=rng)
        if delay is None:
            return Decision(Outcome.FAILED, reason=f"{what} after {attempts_made} attempts")
        wait = parse_retry_after(retry_after, now=now)
        if wait is not None:
            delay = max(delay, min(wait, self.retry_after_cap))
        at = now + timedelta(seconds=delay)
        return Decision(Outcome.RETRY, next_attempt_at=at, delay=delay, reason=what)


def retry_after_header(headers: Mapping[str, str] | None) -> str | None:
    """The Retry-After value from response headers, whatever its case."""
    if not headers:
        return None
    for k, v in headers.items():
        if k.lower() == "retry-after":
            return v
    return None
