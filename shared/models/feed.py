"""Feeds: sources that the fetcher polls, with their schedule, health, WebSub state and health events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models.account import SYSTEM_ACCOUNT_ID
from shared.models.base import text_column, utcnow


class Feed(SQLModel, table=True):
    __tablename__ = "feeds"
    __table_args__ = (UniqueConstraint("owner_id", "url", name="uq_feed_owner_url"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(default=SYSTEM_ACCOUNT_ID, foreign_key="accounts.id", index=True)
    url: str = Field(max_length=2000)
    title: str | None = Field(default=None, max_length=500)
    kind: str = Field(
        default="rss", max_length=20, description="a source kind: a name in shared/fetching/sources/'s table"
    )
    country: str | None = Field(default=None, max_length=2, description="ISO 3166-1 alpha-2, for coverage")
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
    # Adaptive polling: the median gap between the feed's items, and the last HTTP status seen.
    usual_gap_seconds: float | None = None
    last_status: int | None = None
    unhealthy_since: datetime | None = None
    # WebSub: the advertised hub, our subscription's state (none, pending, verified, denied) and lease.
    hub_url: str | None = Field(default=None, max_length=2000)
    websub_topic: str | None = Field(default=None, max_length=2000)
    websub_state: str = Field(default="none", max_length=20)
    websub_secret: str | None = Field(default=None, max_length=500, description="encrypted at rest")
    websub_token: str | None = Field(default=None, max_length=100)
    websub_lease_seconds: int | None = None
    websub_renew_at: datetime | None = Field(default=None, index=True)
    websub_error: str | None = Field(default=None, sa_column=text_column(nullable=True))


class FeedEvent(SQLModel, table=True):
    """Health changes worth telling someone about (feed.unhealthy), kept for the API."""

    __tablename__ = "feed_events"

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feeds.id", index=True, ondelete="CASCADE")
    type: str = Field(max_length=50)
    health: str = Field(max_length=20)
    reason: str = Field(default="", sa_column=text_column(nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow, index=True)
