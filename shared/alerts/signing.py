"""Standard Webhooks signing: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.

Secrets are `whsec_` + base64 of 24 random bytes. During rotation several secrets are valid and the header
carries one signature per secret, space-separated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as _secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"


def generate_secret() -> str:
    """A new random webhook secret, `whsec_` + base64."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(raw)


def sign(*, msg_id: str, timestamp: int, body: str | bytes, secrets: Iterable[str]) -> str:
    """The webhook-signature header value for this message, one `v1,` entry per secret."""
    payload = body.encode() if isinstance(body, str) else body
    to_sign = f"{msg_id}.{timestamp}.".encode() + payload
    parts = []
    for secret in secrets:
        mac = hmac.new(_key(secret), to_sign, hashlib.sha256).digest()
        parts.append("v1," + base64.b64encode(mac).decode())
    if not parts:
        raise ValueError("at least one secret is needed to sign")
    return " ".join(parts)


def webhook_headers(*, msg_id: str, timestamp: int, body: str | bytes, secrets: Iterable[str]) -> dict[str, str]:
    """All Standard Webhooks headers for one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(msg_id=msg_id, timestamp=timestamp, body=body, secrets=secrets),
        "content-type": "application/json",
    }
