"""Alerts: one per watch and story (a story is one article until stories are clustered)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models.base import json_column, text_column, utcnow


class Alert(SQLModel, table=True):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("watch_id", "story_key", name="uq_alert_watch_story"),)

    id: int | None = Field(default=None, primary_key=True)
    watch_id: int = Field(foreign_key="watches.id", index=True, ondelete="CASCADE")
    article_id: int = Field(foreign_key="articles.id", index=True, ondelete="CASCADE")
    story_key: str = Field(
        max_length=64, index=True, description="s<story id>, or a<article id> without a story"
    )
    match_id: int | None = Field(default=None, foreign_key="matches.id", ondelete="SET NULL")
    score: float = 0.0
    terms: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column(nullable=False))
    snippet: str = Field(default="", sa_column=text_column(nullable=False, default=""))
    article_ids: list[int] = Field(default_factory=list, sa_column=json_column(nullable=False))
    revision: int = Field(default=1, description="bumped each time a later article of the story joins")
    throttled: bool = Field(
        default=False, description="over the watch's hourly limit: kept, sent in a digest"
    )
    is_digest: bool = False
    digest_id: int | None = Field(default=None, foreign_key="alerts.id", index=True, ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    # Triage by an analyst: seen (acknowledged) and judged a false positive (also kept as WatchFeedback).
    acknowledged_at: datetime | None = None
    acknowledged_by: int | None = Field(default=None, foreign_key="api_keys.id", ondelete="SET NULL")
    false_positive: bool = False
