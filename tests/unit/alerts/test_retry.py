import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.alerts.retry import (
    DEFAULT_SCHEDULE,
    Outcome,
    RetryPolicy,
    parse_retry_after,
    parse_schedule,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_default_schedule_is_the_documented_one() -> None:
    assert DEFAULT_SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    assert RetryPolicy().max_attempts == 8


def test_parse_schedule_units() -> None:
    assert parse_schedule("0, 5s, 5m, 30m, 2h, 5h, 10h, 10h") == DEFAULT_SCHEDULE
    assert parse_schedule([0, "1m"]) == (0.0, 60.0)
    with pytest.raises(ValueError):
        parse_schedule("")
    with pytest.raises(ValueError):
        parse_schedule("-5")


@given(st.integers(min_value=2, max_value=8), st.integers(min_value=0, max_value=2**32))
def test_jitter_stays_within_20_percent(attempt: int, seed: int) -> None:
    policy = RetryPolicy()
    delay = policy.delay_before(attempt, rng=random.Random(seed))
    base = DEFAULT_SCHEDULE[attempt - 1]
    assert delay is not None
    assert base * 0.8 <= delay <= base * 1.2


def test_first_attempt_is_immediate_and_past_schedule_is_none() -> None:
    policy = RetryPolicy()
    assert policy.delay_before(1) == 0
    assert policy.delay_before(9) is None


def test_success_is_delivered() -> None:
    d = RetryPolicy().decide(attempts_made=1, status_code=204, now=NOW)
    assert d.outcome is Outcome.DELIVERED


@pytest.mark.parametrize("status", [500, 502, 429, 400, None])
def test_failures_retry_on_schedule(status: int | None) -> None:
    d = RetryPolicy(jitter=0).decide(attempts_made=2, status_code=status, now=NOW)
    assert d.outcome is Outcome.RETRY
    assert d.next_attempt_at == NOW + timedelta(seconds=300)


def test_last_attempt_fails() -> None:
    d = RetryPolicy().decide(attempts_made=8, status_code=500, now=NOW)
    assert d.outcome is Outcome.FAILED


def test_gone_disables() -> None:
    d = RetryPolicy().decide(attempts_made=1, status_code=410, now=NOW)
    assert d.outcome is Outcome.DISABLE


def test_failing_for_longer_than_the_period_disables() -> None:
    policy = RetryPolicy(disable_after=timedelta(days=5))
    still = policy.decide(attempts_made=1, status_code=500, failing_since=NOW - timedelta(days=4), now=NOW)
    assert still.outcome is Outcome.RETRY
    gone = policy.decide(attempts_made=1, status_code=500, failing_since=NOW - timedelta(days=5), now=NOW)
    assert gone.outcome is Outcome.DISABLE


def test_retry_after_seconds_is_honoured_and_capped() -> None:
    policy = RetryPolicy(jitter=0, retry_after_cap=600)
    d = policy.decide(attempts_made=1, status_code=429, retry_after="120", now=NOW)
    assert d.delay == 120
    capped = policy.decide(attempts_made=1, status_code=503, retry_after="99999", now=NOW)
    assert capped.delay == 600
    # Never sooner than the schedule.
    sooner = policy.decide(attempts_made=2, status_code=503, retry_after="1", now=NOW)
    assert sooner.delay == 300


def test_retry_after_http_date() -> None:
    when = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(when, now=NOW) == 90
    assert parse_retry_after("garbage", now=NOW) is None
    assert parse_retry_after(None) is None
    past = format_datetime(NOW - timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(past, now=NOW) == 0


def test_from_settings_falls_back_to_defaults() -> None:
    class S:
        retry_schedule = (0, 1, 2)
        webhook_disable_after_seconds = 60

    p = RetryPolicy.from_settings(S())
    assert p.schedule == (0, 1, 2)
    assert p.disable_after == timedelta(seconds=60)
    assert RetryPolicy.from_settings(object()) == RetryPolicy()
