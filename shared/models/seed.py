"""What the seeds have created once: a seed the user deleted is not created again at the next start."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models.base import utcnow


class SeededItem(SQLModel, table=True):
    __tablename__ = "seeded_items"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_seeded_item"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, description="watch or feed")
    key: str = Field(max_length=2000, description="the watch name or feed URL the seed file gives")
    seeded_at: datetime = Field(default_factory=utcnow)
