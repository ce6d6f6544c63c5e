"""Trend events: an entity or story found rising in a window, recorded once per window (what fires once)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models.base import utcnow


class TrendEvent(SQLModel, table=True):
    __tablename__ = "trend_events"
    __table_args__ = (UniqueConstraint("kind", "ref_id", "window_start", name="uq_trend_kind_ref_window"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10, description="entity or story")
    ref_id: int
    name: str = Field(default="", max_length=500)
    window_start: datetime = Field(index=True)
    window_seconds: int
    count: int
    baseline: float = Field(description="mean count over the previous windows")
    score: float = Field(description="-log10 of the Poisson upper-tail p-value")
    created_at: datetime = Field(default_factory=utcnow)
