"""Subscriptions: webhook or Apprise URLs. Secrets are stored encrypted (they must sign), never in clear."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.models.account import SYSTEM_ACCOUNT_ID
from shared.models.base import json_column, text_column, utcnow


class Subscription(SQLModel, table=True):
    __tablename__ = "subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    description: str | None = Field(default=None, max_length=500)
    watch_ids: list[int] | None = Field(default=None, sa_column=json_column(nullable=True))
    event_types: list[str] = Field(default_factory=list, sa_column=json_column(nullable=False))
    secret_encrypted: str = Field(sa_column=text_column(nullable=False))
    previous_secret_encrypted: str | None = Field(default=None, sa_column=text_column(nullable=True))
    previous_secret_expires_at: datetime | None = None
    enabled: bool = True
    disabled_at: datetime | None = None
    disabled_reason: str | None = Field(default=None, max_length=500)
    failing_since: datetime | None = Field(default=None, description="start of the current run of failures")
    last_success_at: datetime | None = None
    owner_id: int = Field(default=SYSTEM_ACCOUNT_ID, foreign_key="accounts.id", index=True)
    max_concurrent: int | None = Field(default=None, description="parallel requests; None: the default")
    rate_per_second: float | None = Field(default=None, description="requests a second; None: the default")
    created_at: datetime = Field(default_factory=utcnow)
