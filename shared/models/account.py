"""Accounts: the owners of watches, feeds and subscriptions. An account has several API keys, so a key can
be rotated (a new key for the same account, then the old one revoked) without losing what it owns."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.models.base import utcnow

# The system account, created by the migrations: the bootstrap admin key's account, and the owner of the
# seeded watches and feeds and of whatever is created without an owner (imports, the CLI).
SYSTEM_ACCOUNT_ID = 1
SYSTEM_ACCOUNT_NAME = "admin"


class Account(SQLModel, table=True):
    __tablename__ = "accounts"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
