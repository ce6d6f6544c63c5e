"""WebSub (W3C) subscriber helpers, pure: request parameters, challenge check, signature check, renewal.

Exceptions (WebSubError is a shared.errors.InvalidInput; ChallengeRejected also a NotFound):
    WebSubError            base
      ├─ ChallengeRejected  a verification request we did not ask for (wrong topic, mode, or no challenge)
      └─ BadSignature       pushed content whose X-Hub-Signature is missing or wrong
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

from shared.errors import InvalidInput, NotFound

__all__ = [
    "BadSignature",
    "ChallengeRejected",
    "WebSubError",
    "check_signature",
    "new_secret",
    "renewal_time",
    "subscription_request",
    "verify_challenge",
]

DEFAULT_LEASE = 10 * 24 * 3600
_ALGORITHMS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


class WebSubError(InvalidInput):
    """A WebSub protocol step failed."""


class ChallengeRejected(NotFound, WebSubError):
    """The hub's verification request does not match a subscription we asked for."""


class BadSignature(WebSubError):
    """Pushed content is unsigned or signed with another secret."""


def new_secret() -> str:
    """A fresh hub.secret (the spec allows up to 200 bytes; 32 random bytes as hex)."""
    return secrets.token_hex(32)


def subscription_request(
    *, topic: str, callback: str, secret: str | None, lease_seconds: int | None = DEFAULT_LEASE,
    mode: str = "subscribe",
) -> dict[str, str]:  # fmt: skip
    """Form fields of the POST to the hub."""
    if mode not in ("subscribe", "unsubscribe"):
        raise ValueError(f"bad hub.mode {mode!r}")
    data = {"hub.mode": mode, "hub.topic": topic, "hub.callback": callback}
    if secret:
        data["hub.secret"] = secret
    if lease_seconds and mode == "subscribe":
        data["hub.lease_seconds"] = str(int(lease_seconds))
    return data


def verify_challenge(
    query: Mapping[str, str], *, expected_topic: str, expected_modes: tuple[str, ...] = ("subscribe",)
) -> tuple[str, int | None]:
    """Check a hub's GET to our callback; returns (challenge to echo, lease seconds) or raises."""
    mode = query.get("hub.mode", "")
    if mode == "denied":
        raise ChallengeRejected(f"hub denied the subscription: {query.get('hub.reason', 'no reason given')}")
    if mode not in expected_modes:
        raise ChallengeRejected(f"unexpected hub.mode {mode!r}")
    if query.get("hub.topic") != expected_topic:
        raise ChallengeRejected("hub.topic does not match the subscription")
    challenge = query.get("hub.challenge", "")
    if not challenge:
        raise ChallengeRejected("no hub.challenge")
    lease = query.get("hub.lease_seconds", "")
    return challenge, int(lease) if lease.isdigit() else None


def check_signature(body: bytes, header: str | None, secret: str) -> None:
    """Verify `X-Hub-Signature: <alg>=<hex hmac>` over the raw body; raises BadSignature."""
    if not header or "=" not in header:
        raise BadSignature("missing X-Hub-Signature")
    alg, _, digest = header.strip().partition("=")
    fn = _ALGORITHMS.get(alg.lower())
    if fn is None:
        raise BadSignature(f"unsupported signature algorithm {alg!r}")
    expected = hmac.new(secret.encode("utf-8"), body, fn).hexdigest()
    if not hmac.compare_digest(expected, digest.strip().lower()):
        raise BadSignature("X-Hub-Signature does not match")


def renewal_time(verified_at: datetime, lease_seconds: int | None, *, margin: float = 0.1) -> datetime:
    """When to renew: before the lease ends by 10% of it, at least one hour (and never before half of it)."""
    lease = lease_seconds or DEFAULT_LEASE
    early = max(lease * margin, min(3600.0, lease / 2))
    return verified_at + timedelta(seconds=max(lease / 2, lease - early))
