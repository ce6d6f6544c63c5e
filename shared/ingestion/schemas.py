"""Article input, as pushed through the API, read from a feed, a seed file or an archive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from shared.models.base import to_utc


class ArticleIn(BaseModel):
    """One article to ingest; needs a title or a text."""

    title: str = Field(default="", max_length=2000)
    text: str = Field(default="", max_length=2_000_000)
    url: str | None = Field(default=None, max_length=2000)
    published: datetime | None = None
    author: str | None = Field(default=None, max_length=500)
    language: str | None = Field(default=None, max_length=10)
    guid: str | None = Field(default=None, max_length=2000)

    @field_validator("published")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return to_utc(value)

    @model_validator(mode="after")
    def _not_empty(self) -> ArticleIn:
        if not self.title.strip() and not self.text.strip():
            raise ValueError("an article needs a title or a text")
        return self


class ArticleBatch(BaseModel):
    articles: list[ArticleIn] = Field(min_length=1, max_length=1000)


class Accepted(BaseModel):
    ids: list[int]
    new_ids: list[int]


class ArticleOut(BaseModel):
    id: int
    url: str | None
    canonical_url: str
    title: str
    language: str | None
    published_at: datetime | None
    fetched_at: datetime
    processed_at: datetime | None
    status: str
    story_id: int | None
    source: str
    feed_id: int | None


class MentionOut(BaseModel):
    text: str
    label: str
    canonical: str | None
    entity_id: int | None
    kb_id: str | None
    start: int
    end: int


class MatchOut(BaseModel):
    watch_id: int
    watch: str
    score: float
    terms: list[dict[str, Any]]
    snippet: str


class ArticleDetail(ArticleOut):
    text: str
    author: str | None
    entities: list[MentionOut]
    matches: list[MatchOut] = Field(description="matches of the caller's watches")
