"""Article input, as pushed through the API, read from a feed, a seed file or an archive.

An article's link is shown to people (the dashboard, alert payloads): only an absolute http(s) URL with a
host is stored as one. Anything else (`javascript:`, `data:`, a relative path, spaces or control
characters) is refused here, which is every ingestion path: the API answers 422, the importer counts the
line as bad, and feeds, pages and WebSub pushes leave the entry out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator, model_validator

from shared.models.base import storable, to_utc

LINK_SCHEMES = ("http", "https")


def link_error(url: str) -> str | None:
    """Why `url` cannot be an article link, or None when it can."""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "a link may not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "not a URL"
    if parts.scheme.lower() not in LINK_SCHEMES:
        return "only http and https URLs are stored as article links"
    if not host:
        return "a link needs a host"
    return None


def is_link(url: str | None) -> bool:
    """True for a URL that may be stored and shown as an article link."""
    return bool(url) and link_error(url or "") is None


class ArticleIn(BaseModel):
    """One article to ingest; needs a title or a text."""

    title: str = Field(default="", max_length=2000)
    text: str = Field(default="", max_length=2_000_000)
    url: str | None = Field(default=None, max_length=2000)
    published: datetime | None = None
    author: str | None = Field(default=None, max_length=500)
    language: str | None = Field(default=None, max_length=10)
    guid: str | None = Field(default=None, max_length=2000)

    @field_validator("title", "text", "author", "guid", mode="before")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        # NUL and lone surrogates cannot be stored (PostgreSQL refuses NUL, neither database takes a lone
        # surrogate); a feed's `&#0;` or a page's stray byte must not lose the rest of the article.
        return storable(value) if isinstance(value, str) else value

    @field_validator("url")
    @classmethod
    def _link(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        problem = link_error(value)
        if problem is not None:
            raise ValueError(problem)
        return value

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
    status: str = Field(description="fetched (waiting), processed, or failed (see error; retry it)")
    error: str | None = Field(description="why the last processing attempt failed")
    attempts: int = Field(description="failed processing attempts")
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
