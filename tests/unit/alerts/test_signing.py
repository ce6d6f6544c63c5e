from datetime import UTC, datetime, timedelta

from standardwebhooks.webhooks import Webhook

from shared.alerts.signing import (
    SigningSecret,
    generate_secret,
    new_secret_set,
    rotate,
    valid_secrets,
    webhook_headers,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_signature_verifies_with_standardwebhooks() -> None:
    secret = generate_secret()
    body = '{"type":"ping"}'
    ts = int(datetime.now(UTC).timestamp())
    headers = webhook_headers(msg_id="msg_1", timestamp=ts, body=body, secrets=[secret])
    assert Webhook(secret).verify(body, headers) == {"type": "ping"}


def test_rotation_keeps_old_secret_signing_for_the_grace_period() -> None:
    first = new_secret_set(now=NOW)
    new, secrets = rotate(first, now=NOW, grace=timedelta(hours=24))
    assert secrets[0].secret == new
    assert valid_secrets(secrets, now=NOW + timedelta(hours=23)) == [new, first[0].secret]
    assert valid_secrets(secrets, now=NOW + timedelta(hours=24)) == [new]

    body = "{}"
    ts = int(datetime.now(UTC).timestamp())
    headers = webhook_headers(msg_id="m", timestamp=ts, body=body, secrets=valid_secrets(secrets, now=NOW))
    assert len(headers["webhook-signature"].split(" ")) == 2
    for s in (new, first[0].secret):
        Webhook(s).verify(body, headers)


def test_rotating_twice_drops_expired_and_never_extends_expiry() -> None:
    _, secrets = rotate(new_secret_set(now=NOW), now=NOW)
    _, again = rotate(secrets, now=NOW + timedelta(hours=1))
    assert len(again) == 3
    assert again[2].expires_at == NOW + timedelta(hours=24)  # not pushed out by the second rotation
    _, later = rotate(again, now=NOW + timedelta(days=3))
    assert len(later) == 2


def test_secret_round_trips_through_dict() -> None:
    s = SigningSecret(generate_secret(), created_at=NOW, expires_at=NOW + timedelta(hours=1))
    assert SigningSecret.from_dict(s.to_dict()) == s
