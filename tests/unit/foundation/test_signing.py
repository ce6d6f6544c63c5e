"""Our signatures, checked by an independent verifier (the standardwebhooks package)."""

from __future__ import annotations

import json
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shared.alerts.signing import generate_secret, webhook_headers


def test_signature_verifies_with_standardwebhooks() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    body = json.dumps({"type": "alert.created", "timestamp": "2026-01-01T00:00:00Z", "data": {"x": "é"}})
    headers = webhook_headers(msg_id="msg_1", timestamp=int(time.time()), body=body, secrets=[secret])
    assert Webhook(secret).verify(body, headers) == json.loads(body)


def test_tampered_body_or_other_secret_fails() -> None:
    secret = generate_secret()
    body = '{"a":1}'
    headers = webhook_headers(msg_id="msg_2", timestamp=int(time.time()), body=body, secrets=[secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify('{"a":2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)


def test_two_secrets_both_verify() -> None:
    old, new = generate_secret(), generate_secret()
    body = '{"a":1}'
    headers = webhook_headers(msg_id="msg_3", timestamp=int(time.time()), body=body, secrets=[new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for s in (old, new):
        Webhook(s).verify(body, headers)
