"""Rotating a subscription's secret several times within the grace: every older secret keeps signing until
its own expiry, checked with the standardwebhooks package."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from shared.alerts import subscriptions as subs
from shared.alerts.signing import generate_secret, webhook_headers
from shared.config import Settings
from shared.models import Subscription

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


class _Session:
    """Only what rotate_secret uses."""

    def add(self, obj: Any) -> None:
        self.added = obj


@pytest.fixture
def settings() -> Settings:
    return Settings(secret_key="unit-test-key", secret_rotation_grace_seconds=24 * 3600)


def _sub(settings: Settings, secret: str) -> Subscription:
    return Subscription(
        url="https://example.org/hook", secret_encrypted=subs.secret_box(settings).encrypt(secret)
    )


def _rotate(sub: Subscription, settings: Settings, at: datetime) -> tuple[str, datetime]:
    session: Any = _Session()
    return subs.rotate_secret(session=session, subscription=sub, settings=settings, now=at)


def _verifies(secret: str, secrets: list[str]) -> bool:
    body = '{"type":"ping","timestamp":"2025-06-01T12:00:00Z","data":{}}'
    ts = int(datetime.now(UTC).timestamp())  # the verifier checks the timestamp against its own clock
    headers = webhook_headers(msg_id="msg_1", timestamp=ts, body=body, secrets=secrets)
    try:
        Webhook(secret).verify(body, headers)
    except Exception:
        return False
    return True


def test_two_rotations_within_the_grace_keep_both_older_secrets_signing(settings: Settings) -> None:
    s0 = generate_secret()
    sub = _sub(settings, s0)
    s1, until1 = _rotate(sub, settings, T0)
    s2, until2 = _rotate(sub, settings, T0 + timedelta(hours=1))
    assert until1 == T0 + timedelta(hours=24) and until2 == T0 + timedelta(hours=25)

    signing = subs.signing_secrets(sub, settings=settings, now=T0 + timedelta(hours=2))
    assert signing == [s2, s1, s0]
    for secret in (s0, s1, s2):
        assert _verifies(secret, signing)

    # each older secret stops at its own expiry: s0 a day after the first rotation, s1 a day after the second
    later = subs.signing_secrets(sub, settings=settings, now=T0 + timedelta(hours=24, minutes=30))
    assert later == [s2, s1]
    assert not _verifies(s0, later) and _verifies(s1, later) and _verifies(s2, later)
    assert subs.signing_secrets(sub, settings=settings, now=T0 + timedelta(hours=26)) == [s2]


def test_a_third_rotation_never_extends_an_older_expiry(settings: Settings) -> None:
    sub = _sub(settings, generate_secret())
    for hours in (0, 1, 2):
        _rotate(sub, settings, T0 + timedelta(hours=hours))
    older = subs.previous_secrets(sub, settings=settings)
    assert [p.expires_at for p in older] == [T0 + timedelta(hours=h) for h in (26, 25, 24)]
    assert sub.previous_secret_expires_at == T0 + timedelta(hours=26)


def test_a_single_previous_secret_stored_before_the_list_form_still_signs(settings: Settings) -> None:
    old, new = generate_secret(), generate_secret()
    sub = _sub(settings, new)
    sub.previous_secret_encrypted = subs.secret_box(settings).encrypt(old)
    sub.previous_secret_expires_at = T0 + timedelta(hours=24)
    assert subs.signing_secrets(sub, settings=settings, now=T0) == [new, old]
    assert subs.signing_secrets(sub, settings=settings, now=T0 + timedelta(hours=25)) == [new]
    s3, _ = _rotate(sub, settings, T0 + timedelta(hours=1))
    assert subs.signing_secrets(sub, settings=settings, now=T0 + timedelta(hours=2)) == [s3, new, old]


def test_zero_grace_keeps_no_older_secret() -> None:
    settings = Settings(secret_key="unit-test-key", secret_rotation_grace_seconds=0)
    sub = _sub(settings, generate_secret())
    new, _ = _rotate(sub, settings, T0)
    assert sub.previous_secret_encrypted is None
    assert subs.signing_secrets(sub, settings=settings, now=T0) == [new]
