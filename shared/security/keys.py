"""API key material (generated, stored as SHA-256 hashes) and encryption of webhook secrets at rest (Fernet).

API keys are 32 random bytes, so a plain SHA-256 is enough: there is nothing to brute-force. Accounts and
the key lifecycle (create, revoke, authenticate) are in shared/security/accounts.py.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

KEY_PREFIX = "nwk_"


class SecretKeyError(RuntimeError):
    """The encryption key is missing or does not decrypt the stored secrets."""


def hash_key(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode()).hexdigest()


def generate_api_key() -> str:
    """A new random API key."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


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
