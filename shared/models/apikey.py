"""API keys: only the SHA-256 hash of a key is stored; the key itself is shown once. A key belongs to an
account and carries scopes (read, write, admin: see shared/security/access.py)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.models.account import SYSTEM_ACCOUNT_ID
from shared.models.base import json_column, utcnow


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    prefix: str = Field(max_length=16, description="first characters of the key, to recognise it")
    key_hash: str = Field(max_length=64, unique=True, index=True)
    account_id: int = Field(default=SYSTEM_ACCOUNT_ID, foreign_key="accounts.id", index=True)
    scopes: list[str] = Field(default_factory=lambda: ["read"], sa_column=json_column(nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
