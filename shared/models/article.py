"""Articles: one row per canonical URL, whatever feed or producer brought it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models.base import text_column, utcnow

STATUS_FETCHED = "fetched"
STATUS_PROCESSED = "processed"
STATUS_FAILED = "failed"


class Article(SQLModel, table=True):
    __tablename__ = "articles"

    id: int | None = Field(default=None, primary_key=True)
    url: str | None = Field(default=None, max_length=2000)
    canonical_url: str = Field(max_length=2000, unique=True)
    title: str = Field(default="", sa_column=text_column(nullable=False, default=""))
    text: str = Field(default="", sa_column=text_column(nullable=False, default=""))
    author: str | None = Field(default=None, max_length=500)
    language: str | None = Field(default=None, max_length=10)
    published_at: datetime | None = Field(default=None, index=True)
    fetched_at: datetime = Field(default_factory=utcnow, index=True)
    processed_at: datetime | None = None
    status: str = Field(default=STATUS_FETCHED, max_length=20, index=True)
    error: str | None = Field(default=None, sa_column=text_column(nullable=True))
    fingerprint: str | None = Field(default=None, max_length=64, index=True)
    story_id: int | None = Field(default=None, index=True)
    source: str = Field(default="feed", max_length=20, description="feed, api, seed or import")
    feed_id: int | None = Field(default=None, foreign_key="feeds.id", index=True, ondelete="SET NULL")
    guid: str | None = Field(default=None, max_length=2000)
    # MinHash signature of title + text (None when too short to cluster); see shared.ingestion.dedup.
    minhash: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class StoryBand(SQLModel, table=True):
    """LSH band hashes of article signatures: near-duplicate candidates are one indexed lookup."""

    __tablename__ = "story_bands"

    id: int | None = Field(default=None, primary_key=True)
    band: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    article_id: int = Field(foreign_key="articles.id", index=True, ondelete="CASCADE")


class ArticleSource(SQLModel, table=True):
    """Every feed an article arrived through (one article, several feeds)."""

    __tablename__ = "article_sources"
    __table_args__ = (UniqueConstraint("article_id", "feed_id", name="uq_article_source"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="articles.id", index=True, ondelete="CASCADE")
    feed_id: int = Field(foreign_key="feeds.id", index=True, ondelete="CASCADE")
    guid: str | None = Field(default=None, max_length=2000)
    seen_at: datetime = Field(default_factory=utcnow)
