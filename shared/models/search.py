"""The search read model: one row per processed article with what filters, sorting and facets need.

Written by `shared.search.index` when an article is processed. The full-text part is not here: PostgreSQL
adds a `document tsvector` column with a GIN index and SQLite an FTS5 table `article_fts`, both in the
hand-written migration 0003 (autogenerate cannot express them); 0004 adds, on PostgreSQL, the index
`ix_article_search_article_facets` (article_id) INCLUDE (dated_at, language) that facets read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class ArticleSearch(SQLModel, table=True):
    __tablename__ = "article_search"
    __table_args__ = (
        Index("ix_article_search_time", "dated_at", "article_id"),
        Index("ix_article_search_config", "config"),
        Index("ix_article_search_story", "story_id", "dated_at"),
    )

    article_id: int = Field(primary_key=True, foreign_key="articles.id", ondelete="CASCADE")
    config: str = Field(max_length=32, description="text-search configuration: english, russian, simple...")
    language: str | None = Field(default=None, max_length=10)
    dated_at: datetime = Field(description="published, else fetched; never later than fetched")
    feed_id: int | None = Field(default=None, index=True)
    story_id: int | None = None
    host: str = Field(default="", max_length=255, description="the source: host of the canonical URL")
