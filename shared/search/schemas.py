"""What a search answers (pydantic models, used by the API as its response schemas)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

_HIT_EXAMPLE: JsonDict = {
    "id": 42,
    "title": "SCO summit opens in Astana",
    "title_highlights": [[0, 3]],
    "url": "https://example.org/news/sco-summit",
    "host": "example.org",
    "language": "en",
    "dated_at": "2026-07-03T08:00:00Z",
    "published_at": "2026-07-03T08:00:00Z",
    "feed_id": 3,
    "story_id": 40,
    "canonical_url": "https://example.org/news/sco-summit",
    "fetched_at": "2026-07-03T08:01:10Z",
    "processed_at": "2026-07-03T08:01:12Z",
    "status": "processed",
    "source": "feed",
    "snippet": "…leaders of the SCO member states met in Astana on Wednesday…",
    "highlights": [[16, 19]],
    "rank": 0.31,
}


class ArticleHit(BaseModel):
    """One found article: highlights are [start, end) offsets into `title` and into `snippet`."""

    model_config = ConfigDict(json_schema_extra={"examples": [_HIT_EXAMPLE]})

    id: int
    title: str
    title_highlights: list[tuple[int, int]] = Field(default_factory=list)
    url: str | None = Field(description="http(s) links only; null otherwise")
    host: str
    language: str | None
    dated_at: datetime = Field(description="published, else fetched")
    published_at: datetime | None
    feed_id: int | None
    story_id: int | None
    canonical_url: str
    fetched_at: datetime
    processed_at: datetime | None
    status: str
    source: str
    snippet: str
    highlights: list[tuple[int, int]] = Field(default_factory=list)
    rank: float | None = Field(default=None, description="relevance (sort=relevance)")


class DayCount(BaseModel):
    day: str = Field(description="UTC day, YYYY-MM-DD")
    count: int


class LanguageCount(BaseModel):
    language: str
    count: int


class Facets(BaseModel):
    """Counts over every article the query and filters select (not only this page)."""

    total: int
    days: list[DayCount]
    languages: list[LanguageCount]


class SearchPage(BaseModel):
    """A page of results; pass `next_cursor` back as `cursor` for the next one (null: no more).

    Without any search parameter the route lists every article newest id first (`before`, `status`),
    paginated by `next_before`, as it always did."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [_HIT_EXAMPLE],
                    "next_cursor": "eyJ0IjoiMjAyNi0wNy0wM1QwODowMDowMCswMDowMCIsImkiOjQyfQ",
                    "sort": "published",
                    "query": "'sco' & 'summit'",
                    "facets": {
                        "total": 1,
                        "days": [{"day": "2026-07-03", "count": 1}],
                        "languages": [{"language": "en", "count": 1}],
                    },
                }
            ]
        }
    )

    items: list[ArticleHit]
    next_cursor: str | None = None
    next_before: int | None = Field(
        default=None, description="listing without search: the next page's before"
    )
    sort: str
    query: str | None = Field(default=None, description="the query as PostgreSQL reads it (to_tsquery form)")
    facets: Facets | None = None
