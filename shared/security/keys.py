"""API keys (stored as SHA-256 hashes) and encryption of webhook secrets at rest (Fernet).

API keys are 32 random bytes, so a plain SHA-256 is enough: there is nothing to brute-force.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlmodel import Session, col, select

from shared.models import ApiKey
from shared.models.base import utcnow

KEY_PREFIX = "nwk_"


class SecretKeyError(RuntimeError):
    """The encryption key is missing or does not decrypt the stored secrets."""


def hash_key(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode()).hexdigest()


def generate_api_key() -> str:
    """A new random API key."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_api_key(
    *, session: Session, name: str, is_admin: bool = False, key: str | None = None
) -> tuple[ApiKey, str]:
    """Store a key (generated unless given); returns the row and the key in clear, shown once."""
    key = key or generate_api_key()
    row = ApiKey(name=name, prefix=key[:8], key_hash=hash_key(key), is_admin=is_admin)
    session.add(row)
    session.flush()
    return row, key


def authenticate(*, session: Session, key: str) -> ApiKey | None:
    """The active key row for this bearer token, or None."""
    row = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).first()
    if row is None or row.revoked_at is not None:
        return None
    return row


def active_key_ids(*, session: Session, ids: Iterable[int]) -> set[int]:
    """Those of `ids` that are keys still valid (not revoked, not deleted)."""
    wanted = list(ids)
    if not wanted:
        return set()
    q = select(ApiKey.id).where(col(ApiKey.id).in_(wanted), col(ApiKey.revoked_at).is_(None))
    return {i for i in session.exec(q) if i is not None}


def ensure_admin_key(*, session: Session, configured: str | None) -> str | None:
    """Make sure an admin key exists; returns a newly generated key (to print once) or None."""
    if configured:
        if session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(configured))).first() is None:
            create_api_key(session=session, name="bootstrap admin", is_admin=True, key=configured)
        return None
    has_admin = session.exec(select(ApiKey).where(ApiKey.is_admin, ApiKey.revoked_at.is_(None))).first()  # type: ignore[union-attr]
    if has_admin is not None:
        return None
    _, key = create_api_key(session=session, name="bootstrap admin", is_admin=True)
    return key


def touch(*, session: Session, row: ApiKey) -> None:
    """Record the use of a key."""
    row.last_used_at = utcnow()
    session.add(row)


class SecretBox:
    """Encrypts and decrypts webhook secrets with a Fernet key derived from the configured secret."""

    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    @classmethod
    def from_settings(cls, secret_key: str | None, data_dir: Path) -> SecretBox:
        """From NEWSWATCH_SECRET_KEY, or a key file created once under data_dir."""
        if secret_key:
            return cls(secret_key)
        path = data_dir / "secret.key"
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return cls(path.read_text().strip())

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretKeyError("cannot decrypt a stored secret: NEWSWATCH_SECRET_KEY changed?") from exc
