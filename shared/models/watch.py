"""Watches (stored rules), the rule-set version counter, and matches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models.account import SYSTEM_ACCOUNT_ID
from shared.models.base import json_column, text_column, utcnow


class Watch(SQLModel, table=True):
    __tablename__ = "watches"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_watch_owner_name"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(default=SYSTEM_ACCOUNT_ID, foreign_key="accounts.id", index=True)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_column=text_column(nullable=True))
    query: str = Field(sa_column=text_column(nullable=False))
    canonical_query: str = Field(default="", sa_column=text_column(nullable=False, default=""))
    enabled: bool = True
    version: int = 1
    max_alerts_per_hour: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class RulesetState(SQLModel, table=True):
    """One row: bumped on every watch change so workers know to recompile."""

    __tablename__ = "ruleset_state"

    id: int = Field(default=1, primary_key=True)
    version: int = 1


class Match(SQLModel, table=True):
    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("watch_id", "article_id", name="uq_match_watch_article"),)

    id: int | None = Field(default=None, primary_key=True)
    watch_id: int = Field(foreign_key="watches.id", index=True, ondelete="CASCADE")
    article_id: int = Field(foreign_key="articles.id", index=True, ondelete="CASCADE")
    score: float = 0.0
    terms: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column(nullable=False))
    snippet: str = Field(default="", sa_column=text_column(nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
