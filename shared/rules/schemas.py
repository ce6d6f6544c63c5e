"""API schemas of watches: create, change, read, validate a query, backtest a window."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.schemas import Count, Id, omittable

MAX_QUERY = 20_000
MAX_RATE = 100_000  # alerts an hour: beyond that, "no limit" says it better


class WatchIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    query: str = Field(min_length=1, max_length=MAX_QUERY)
    description: str | None = Field(default=None, max_length=2000)
    enabled: bool = True
    max_alerts_per_hour: int | None = Field(default=None, ge=1, le=MAX_RATE)


class WatchPatch(BaseModel):
    """Only the fields given change; name, query and enabled may be left out but not set to null."""

    name: str = omittable(min_length=1, max_length=200)
    query: str = omittable(min_length=1, max_length=MAX_QUERY)
    description: str | None = Field(default=None, max_length=2000)
    enabled: bool = omittable()
    max_alerts_per_hour: int | None = Field(default=None, ge=1, le=MAX_RATE, description="null: the default")


class WatchOut(BaseModel):
    id: int
    owner_id: int
    name: str
    query: str
    canonical_query: str
    description: str | None
    enabled: bool
    version: int
    max_alerts_per_hour: int | None
    status: str = Field(description="active, or quarantined: failed to compile or evaluate, not matching")
    status_reason: str | None = Field(description="why the watch was quarantined")
    failed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class QueryIn(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUERY)


class ValidationOut(BaseModel):
    valid: bool
    canonical: str
    folded: str = Field(description="the canonical query as it is matched: Traditional Chinese as Simplified")
    terms: list[str]
    warnings: list[str]


class WindowIn(BaseModel):
    since: str | None = Field(
        default=None, max_length=40, description="ISO date or date-time; default 30 days before until"
    )
    until: str | None = Field(
        default=None, max_length=40, description="ISO date (whole day) or date-time; default now"
    )


class DraftBacktestIn(WindowIn):
    query: str = Field(min_length=1, max_length=MAX_QUERY)
    watch_id: Id | None = Field(
        default=None, description="report this watch's false positives against the draft"
    )


class BacktestMatchOut(BaseModel):
    article_id: int
    title: str
    published: str
    score: float
    snippet: str
    terms: list[dict[str, Any]]
    false_positive: bool = Field(default=False, description="marked a false positive of the watch")


class FalsePositiveOut(BaseModel):
    """A false positive of the watch, and whether the rule under test still matches it."""

    article_id: int
    note: str
    matched: bool | None = Field(description="null: the article is outside the window")


class BacktestOut(BaseModel):
    query: str
    since: str
    until: str
    scanned: Count
    total: Count
    per_day: dict[str, int]
    offset: int
    limit: int
    matches: list[BacktestMatchOut]
    false_positives: list[FalsePositiveOut] = Field(default_factory=list)
    false_positives_matched: Count = 0
