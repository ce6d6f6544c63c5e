"""API schemas of accounts and keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from shared.models import Account, ApiKey

Scope = Literal["read", "write", "admin"]


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(
        min_length=1,
        max_length=3,
        description="read: GET only; write: also create and change what the account owns; admin: everything",
    )
    owner: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="an existing account's name (a second key for it, e.g. to rotate); "
        "omitted: a new account named after the key",
    )


class KeyOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="the key's first characters, to recognise it")
    scopes: list[str]
    owner_id: int = Field(description="the account the key belongs to")
    owner: str = Field(description="that account's name")
    created_at: datetime
    last_used_at: datetime | None = Field(description="last request made with it (to the minute)")
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey, account: Account) -> KeyOut:
        """The API form of a key (never its hash)."""
        return cls(
            id=key.id or 0,
            name=key.name,
            prefix=key.prefix,
            scopes=list(key.scopes),
            owner_id=key.account_id,
            owner=account.name,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )


class KeyCreated(KeyOut):
    key: str = Field(description="shown this once; only its hash is stored")


class AccountIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class AccountOut(BaseModel):
    id: int
    name: str
    created_at: datetime
    active_keys: int

    @classmethod
    def of(cls, account: Account, active_keys: int) -> AccountOut:
        """The API form of an account."""
        return cls(
            id=account.id or 0, name=account.name, created_at=account.created_at, active_keys=active_keys
        )


class Me(BaseModel):
    """The calling key: who it is and what it may do."""

    key_id: int
    name: str
    scopes: list[str]
    owner_id: int
    owner: str
