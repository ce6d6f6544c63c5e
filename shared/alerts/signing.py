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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

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


def webhook_headers(
    *, msg_id: str, timestamp: int, body: str | bytes, secrets: Iterable[str]
) -> dict[str, str]:
    """All Standard Webhooks headers for one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(msg_id=msg_id, timestamp=timestamp, body=body, secrets=secrets),
        "content-type": "application/json",
    }


# --- Rotation -------------------------------------------------------------------------------------------
# A subscription keeps a list of secrets, newest first. Rotating adds a new one and gives the older ones an
# expiry `grace` from now (24 h by default): until then every attempt carries one signature per valid secret,
# so receivers can switch over at their own pace.

DEFAULT_ROTATION_GRACE = timedelta(hours=24)


@dataclass(frozen=True)
class SigningSecret:
    """One secret of a subscription; `expires_at` None means it does not expire."""

    secret: str
    created_at: datetime
    expires_at: datetime | None = None

    def is_valid(self, now: datetime) -> bool:
        """True while the secret may still sign."""
        return self.expires_at is None or now < self.expires_at

    def to_dict(self) -> dict[str, str | None]:
        """JSON-friendly form for storage."""
        return {
            "secret": self.secret,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SigningSecret:
        """Inverse of to_dict."""
        exp = data.get("expires_at")
        return cls(
            secret=data["secret"],
            created_at=_aware(datetime.fromisoformat(data["created_at"])),
            expires_at=_aware(datetime.fromisoformat(exp)) if exp else None,
        )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def new_secret_set(*, now: datetime | None = None) -> list[SigningSecret]:
    """A fresh list holding one non-expiring secret."""
    return [SigningSecret(generate_secret(), created_at=now or datetime.now(UTC))]


def rotate(
    secrets: Iterable[SigningSecret],
    *,
    now: datetime | None = None,
    grace: timedelta = DEFAULT_ROTATION_GRACE,
) -> tuple[str, list[SigningSecret]]:
    """Add a new secret; older ones expire after `grace`, expired ones go. Returns (new, all)."""
    now = now or datetime.now(UTC)
    until = now + grace
    kept = []
    for s in secrets:
        if not s.is_valid(now):
            continue
        expires = until if s.expires_at is None else min(s.expires_at, until)
        kept.append(SigningSecret(s.secret, created_at=s.created_at, expires_at=expires))
    new = SigningSecret(generate_secret(), created_at=now)
    return new.secret, [new, *kept]


def valid_secrets(secrets: Iterable[SigningSecret], *, now: datetime | None = None) -> list[str]:
    """The secrets that sign at `now`, newest first."""
    now = now or datetime.now(UTC)
    return [s.secret for s in secrets if s.is_valid(now)]
