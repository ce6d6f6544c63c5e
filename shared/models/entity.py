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
    # Two covering indexes, so the dashboard's queries read no table rows: windowed counts over all
    # entities (top, rising) range-scan the first; one entity's trend, articles and filters the second.
    # PostgreSQL also has ix_mentions_entity_article (entity_id, article_id), hand-written in migration 0004.
    __table_args__ = (
        Index("ix_mentions_time_entity", "published_at", "entity_id", "article_id"),
        Index("ix_mentions_entity_time", "entity_id", "published_at", "article_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="articles.id", index=True, ondelete="CASCADE")
    entity_id: int = Field(
        foreign_key="entities.id", ondelete="CASCADE"
    )  # indexed by ix_mentions_entity_time
    text: str = Field(max_length=500)
    label: str = Field(max_length=20)
    start: int
    end: int
    linked: bool = False
    # The article's time: published, else fetched (never later than fetched); see shared.search.index.
    published_at: datetime | None = None  # indexed by ix_mentions_time_entity
