"""Feeds: sources that the fetcher polls, with their schedule and health."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.models.base import text_column, utcnow


class Feed(SQLModel, table=True):
    __tablename__ = "feeds"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000, unique=True)
    title: str | None = Field(default=None, max_length=500)
    kind: str = Field(default="rss", max_length=20, description="rss (RSS/Atom/JSON Feed) or sitemap")
    enabled: bool = True
    extract_full_text: bool = False
    interval_seconds: int = 900
    next_fetch_at: datetime = Field(default_factory=utcnow, index=True)
    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    health: str = Field(default="ok", max_length=20)
    last_fetched_at: datetime | None = None
    last_success_at: datetime | None = None
    last_new_item_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=text_column(nullable=True))
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    created_at: datetime = Field(default_factory=utcnow)
