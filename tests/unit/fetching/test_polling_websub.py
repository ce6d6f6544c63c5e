"""Adaptive polling, backoff, health transitions, and the WebSub helpers."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from shared.fetching.polling import (
    FeedHealth,
    PollPolicy,
    PollState,
    after_failure,
    after_success,
    cache_max_age,
    is_unhealthy_transition,
    publishing_gap,
)
from shared.fetching.websub import (
    BadSignature,
    ChallengeRejected,
    check_signature,
    renewal_time,
    subscription_request,
    verify_challenge,
)

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
POLICY = PollPolicy(floor=300, ceiling=6 * 3600, default=1800)


def hours_ago(*hours: float) -> list[datetime]:
    return [NOW - timedelta(hours=h) for h in hours]


def test_interval_follows_publishing_rhythm_within_bounds() -> None:
    busy = after_success(PollState(interval=1800), now=NOW, new_items=5, published=hours_ago(0, 0.5, 1, 1.5))
    assert busy.interval == 900  # half the 30-minute median gap
    frantic = after_success(
        PollState(interval=1800), now=NOW, new_items=5, published=hours_ago(0, 0.01, 0.02)
    )
    assert frantic.interval == PollPolicy().floor
    quiet = after_success(PollState(interval=1800), now=NOW, new_items=1, published=hours_ago(0, 48, 96))
    assert quiet.interval == PollPolicy().ceiling
    assert busy.next_poll_at == NOW + timedelta(seconds=900)
    assert publishing_gap([None, NOW]) is None


def test_ttl_max_age_and_retry_after_are_honoured() -> None:
    s = PollState(interval=600)
    assert after_success(s, now=NOW, new_items=0, ttl_minutes=120, policy=POLICY).interval == 7200
    hdrs = {"Cache-Control": "public, max-age=3600"}
    assert after_success(s, now=NOW, new_items=0, headers=hdrs, policy=POLICY).interval == 3600
    assert cache_max_age({"cache-control": "no-store, max-age=60"}) is None
    assert cache_max_age({"cache-control": "max-age=60, s-maxage=90"}) == 90
    failed = after_failure(s, now=NOW, error="HTTP 429", retry_after=5400, policy=POLICY)
    assert failed.next_poll_at == NOW + timedelta(seconds=5400)


def test_backoff_grows_exponentially_and_is_capped() -> None:
    s = PollState(interval=600)
    delays = []
    for _ in range(12):
        s = after_failure(s, now=NOW, error="boom", policy=POLICY)
        assert s.next_poll_at is not None
        delays.append((s.next_poll_at - NOW).total_seconds())
    assert delays[:4] == [600, 1200, 2400, 4800]
    assert delays[-1] == POLICY.max_backoff
    assert s.last_error == "boom" and s.consecutive_failures == 12


def test_health_state_machine_and_unhealthy_events() -> None:
    s = after_success(PollState(interval=600), now=NOW, new_items=1, published=hours_ago(0, 1, 2))
    assert s.health == FeedHealth.OK
    s1 = after_failure(s, now=NOW, error="x", policy=POLICY)
    assert s1.health == FeedHealth.DEGRADED and not is_unhealthy_transition(s.health, s1.health)
    s2 = after_failure(s1, now=NOW, error="x", policy=POLICY)
    s3 = after_failure(s2, now=NOW, error="x", policy=POLICY)
    assert s3.health == FeedHealth.FAILING and is_unhealthy_transition(s2.health, s3.health)
    s4 = after_failure(s3, now=NOW, error="x", policy=POLICY)
    assert not is_unhealthy_transition(s3.health, s4.health)  # emitted once, not on every failure
    recovered = after_success(s4, now=NOW, new_items=0)
    assert recovered.health == FeedHealth.OK and recovered.consecutive_failures == 0
    # Hourly feed silent for three days: stale (10 × 1h, at least 2 days).
    later = NOW + timedelta(days=3)
    stale = after_success(recovered, now=later, new_items=0)
    assert stale.health == FeedHealth.STALE and is_unhealthy_transition(recovered.health, stale.health)


def test_subscription_request_and_challenge() -> None:
    data = subscription_request(topic="https://p.example/f", callback="https://me/cb/1", secret="s")
    assert data["hub.mode"] == "subscribe" and data["hub.secret"] == "s" and "hub.lease_seconds" in data
    q = {"hub.mode": "subscribe", "hub.topic": "https://p.example/f", "hub.challenge": "abc",
         "hub.lease_seconds": "86400"}  # fmt: skip
    assert verify_challenge(q, expected_topic="https://p.example/f") == ("abc", 86400)
    with pytest.raises(ChallengeRejected):
        verify_challenge({**q, "hub.topic": "https://evil/"}, expected_topic="https://p.example/f")
    with pytest.raises(ChallengeRejected, match="denied"):
        verify_challenge({"hub.mode": "denied"}, expected_topic="https://p.example/f")


@pytest.mark.parametrize("alg", ["sha1", "sha256", "sha512"])
def test_signature_check(alg: str) -> None:
    body = b"<feed/>"
    good = f"{alg}=" + hmac.new(b"secret", body, getattr(hashlib, alg)).hexdigest()
    check_signature(body, good, "secret")
    with pytest.raises(BadSignature):
        check_signature(body + b" ", good, "secret")
    with pytest.raises(BadSignature):
        check_signature(body, None, "secret")
    with pytest.raises(BadSignature):
        check_signature(body, "md5=abc", "secret")


def test_renewal_before_lease_ends() -> None:
    assert renewal_time(NOW, 10 * 86400) == NOW + timedelta(days=9)
    assert renewal_time(NOW, 3600) == NOW + timedelta(minutes=30)
