"""What the dashboard's read routes answer (pydantic models with examples; the API's response schemas)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


def _ex(example: dict[str, object]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


_T = "2026-07-03T08:00:00Z"
_ENTITY = {"id": 7, "name": "Xi Jinping", "label": "PERSON", "kb_id": "Q15031", "articles": 4}
_STORY = {
    "id": 40,
    "title": "SCO summit opens in Astana",
    "url": "https://example.org/news/sco-summit",
    "first_seen": _T,
    "last_seen": "2026-07-03T11:30:00Z",
    "articles": 6,
    "sources": 4,
    "languages": ["en", "ru", "zh"],
    "top_entities": [_ENTITY],
    "alerts": 2,
}


class StoryEntity(BaseModel):
    model_config = _ex(_ENTITY)
    id: int
    name: str
    label: str
    kb_id: str | None
    articles: int


class StoryOut(BaseModel):
    """A story: first and last article time, articles, distinct sources (hosts) and languages."""

    model_config = _ex(_STORY)
    id: int
    title: str
    url: str | None
    first_seen: datetime
    last_seen: datetime
    articles: int
    sources: int
    languages: list[str]
    top_entities: list[StoryEntity]
    alerts: int = Field(description="alerts raised on the story (all watches)")


class StoryList(BaseModel):
    model_config = _ex({"items": [_STORY]})
    items: list[StoryOut]


class TimelineArticle(BaseModel):
    id: int
    dated_at: datetime
    host: str
    language: str | None
    title: str
    url: str | None


class StoryEvent(BaseModel):
    """One point of a story's timeline: an article, or an alert of one of the caller's watches."""

    at: datetime
    kind: str = Field(description="article or alert")
    article_id: int | None = None
    alert_id: int | None = None
    title: str | None = None
    watch: str | None = None
    score: float | None = None


class StoryTimeline(BaseModel):
    model_config = _ex(
        {
            "story": _STORY,
            "articles": [
                {"id": 41, "dated_at": _T, "host": "example.org", "language": "en",
                 "title": "SCO summit opens", "url": "https://example.org/news/sco-summit"}
            ],
            "events": [
                {"at": _T, "kind": "article", "article_id": 41, "title": "SCO summit opens"},
                {"at": "2026-07-03T08:00:05Z", "kind": "alert", "alert_id": 9, "watch": "SCO", "score": 3.0},
            ],
        }
    )  # fmt: skip
    story: StoryOut
    articles: list[TimelineArticle]
    events: list[StoryEvent]


_RISING = {
    "kind": "entity",
    "id": 7,
    "name": "Xi Jinping",
    "label": "PERSON",
    "count": 14,
    "baseline_mean": 1.2,
    "expected": 1.25,
    "p_value": 2.1e-10,
    "score": 9.7,
    "z": 11.4,
    "window_start": _T,
    "window_seconds": 3600,
    "sources": 6,
    "languages": ["en", "zh"],
}


class RisingOut(BaseModel):
    """A rising entity or story: its count in the last window against a Poisson baseline of its past."""

    model_config = _ex(_RISING)
    kind: str
    id: int
    name: str
    label: str | None
    count: int = Field(description="articles in the last window")
    baseline_mean: float = Field(description="mean articles per window over the baseline windows")
    expected: float = Field(description="λ: (sum of baseline counts + 1) / windows")
    p_value: float = Field(description="P(X ≥ count) for X ~ Poisson(λ)")
    score: float = Field(description="-log10(p_value)")
    z: float
    window_start: datetime
    window_seconds: int
    sources: int
    languages: list[str]


class RisingList(BaseModel):
    model_config = _ex({"items": [_RISING], "window_seconds": 3600, "baseline_windows": 24, "min_count": 5,
                        "max_p": 0.001, "until": "2026-07-03T09:00:00Z"})  # fmt: skip
    items: list[RisingOut]
    window_seconds: int
    baseline_windows: int
    min_count: int
    max_p: float
    until: datetime


class TrendBucket(BaseModel):
    start: datetime
    mentions: int
    articles: int


class EntityTrend(BaseModel):
    """Zero-filled counts per aligned bucket (for a chart)."""

    model_config = _ex({"entity_ids": [7], "bucket": "day", "since": "2026-06-26T00:00:00Z", "until": _T,
                        "buckets": [{"start": "2026-07-02T00:00:00Z", "mentions": 9,
                                     "articles": 5}]})  # fmt: skip
    entity_ids: list[int]
    bucket: str
    since: datetime
    until: datetime
    buckets: list[TrendBucket]
