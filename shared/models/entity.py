"""Entities (canonical, from the knowledge base, or unlinked by normalised text) and their mentions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models.base import utcnow


class Entity(SQLModel, table=True):
    __tablename__ = "entities"
    __table_args__ = (UniqueConstraint("label", "key", name="uq_entity_label_key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, description="knowledge-base id (e.g. Q7747) or normalised text")
    kb_id: str | None = Field(default=None, max_length=100, index=True)
    label: str = Field(max_length=20)
    name: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class Mention(SQLModel, table=True):
    __tablename__ = "mentions"
    # Windowed counts per entity (top, trends, rising) read only this index: time first, then the entity
    # and article, so a window is one range scan that never touches the table.
    __table_args__ = (Index("ix_mentions_time_entity", "published_at", "entity_id", "article_id"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="articles.id", index=True, ondelete="CASCADE")
    entity_id: int = Field(foreign_key="entities.id", index=True, ondelete="CASCADE")
    text: str = Field(max_length=500)
    label: str = Field(max_length=20)
    start: int
    end: int
    linked: bool = False
    # The article's time: published, else fetched (never later than fetched); see shared.search.index.
    published_at: datetime | None = Field(default=None, index=True)
