"""Analyst feedback on a watch: an article it matched that should not have matched (a false positive)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models.base import text_column, utcnow

FALSE_POSITIVE = "false_positive"


class WatchFeedback(SQLModel, table=True):
    __tablename__ = "watch_feedback"
    __table_args__ = (
        UniqueConstraint("watch_id", "article_id", "verdict", name="uq_feedback_watch_article"),
    )

    id: int | None = Field(default=None, primary_key=True)
    watch_id: int = Field(foreign_key="watches.id", index=True, ondelete="CASCADE")
    article_id: int = Field(foreign_key="articles.id", index=True, ondelete="CASCADE")
    alert_id: int | None = Field(default=None, foreign_key="alerts.id", ondelete="SET NULL")
    verdict: str = Field(default=FALSE_POSITIVE, max_length=20)
    note: str = Field(default="", sa_column=text_column(nullable=False, default=""))
    created_by: int | None = Field(default=None, foreign_key="api_keys.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
