"""What the dashboard's read routes answer (pydantic models with examples; the API's response schemas)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from shared.alerts.schemas import ALERT_EXAMPLE, AlertOut


def _ex(example: JsonDict) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


_T = "2026-07-03T08:00:00Z"
_ENTITY: JsonDict = {"id": 7, "name": "Xi Jinping", "label": "PERSON", "kb_id": "Q15031", "articles": 4}
_STORY: JsonDict = {
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


_RISING: JsonDict = {
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


# --- alerts by story, triage ---------------------------------------------------------------------------


class StoryAlerts(BaseModel):
    """One story's alerts across the caller's watches: one row per event however many watches it touched."""

    story_key: str
    story_id: int | None
    title: str
    url: str | None
    last_changed: datetime
    max_score: float
    watches: list[str]
    articles: int = Field(description="distinct articles over the story's alerts")
    acknowledged: bool = Field(description="every alert of the story is acknowledged")
    alerts: list[AlertOut]


class StoryAlertsPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [{"story_key": "s40", "story_id": 40,
                                     "title": "SCO summit opens in Astana", "url": "https://example.org/news/sco-summit",
                                     "last_changed": "2026-07-03T09:10:00Z", "max_score": 3.0,
                                     "watches": ["SCO", "SCO leaders"], "articles": 2, "acknowledged": False,
                                     "alerts": [ALERT_EXAMPLE]}],
                          "next_before": "2026-07-03T09:10:00Z"}]
        }
    )  # fmt: skip
    items: list[StoryAlerts]
    next_before: datetime | None = Field(default=None, description="pass as `before` for the next page")


class AckIn(BaseModel):
    acknowledged: bool = True


class FalsePositiveIn(BaseModel):
    note: str = Field(default="", max_length=2000, description="why it should not have matched")


class FeedbackOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": 3, "watch_id": 1, "article_id": 12, "alert_id": 9,
                                         "verdict": "false_positive", "note": "The SCO Group, not the SCO",
                                         "title": "SCO Group sues over Linux",
                                         "created_at": "2026-07-03T10:00:00Z"}]}
    )  # fmt: skip
    id: int
    watch_id: int
    article_id: int
    alert_id: int | None
    verdict: str
    note: str
    title: str = ""
    created_at: datetime


# --- sources and the pipeline ---------------------------------------------------------------------------


class FeedHealthOut(BaseModel):
    id: int
    title: str | None
    url: str
    enabled: bool
    health: str
    country: str | None
    last_success_at: datetime | None
    last_new_item_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    items: int
    items_per_day: float


class FeedsHealth(BaseModel):
    """The caller's feeds: how many in each state, and each one's figures over the last `days` days."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"days": 7, "states": {"ok": 12, "failing": 1}, "items": [
            {"id": 3, "title": "TASS", "url": "https://tass.com/rss/v2.xml", "enabled": True, "health": "ok",
             "country": "RU", "last_success_at": "2026-07-03T08:00:00Z",
             "last_new_item_at": "2026-07-03T07:58:00Z",
             "last_error": None, "last_error_at": None, "consecutive_failures": 0, "items": 210,
             "items_per_day": 30.0}]}]}
    )  # fmt: skip
    days: int
    states: dict[str, int]
    items: list[FeedHealthOut]


class Count(BaseModel):
    key: str
    count: int


class Coverage(BaseModel):
    """Articles of the window per language and per country (feed's country, else the host's domain)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"since": "2026-06-26T08:00:00Z", "until": "2026-07-03T08:00:00Z",
                                         "total": 130, "languages": [{"key": "en", "count": 90}],
                                         "countries": [{"key": "RU", "count": 40}]}]}
    )  # fmt: skip
    since: datetime
    until: datetime
    total: int
    languages: list[Count]
    countries: list[Count]


class LatencyOut(BaseModel):
    stage: str
    count: int
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    max: float | None


class PipelineOut(BaseModel):
    """Articles and deliveries per status, queue depths, and seconds per stage over the window."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"since": "2026-07-03T07:00:00Z", "until": "2026-07-03T08:00:00Z",
                                         "stages": {"articles.fetched": 3, "articles.processed": 1200,
                                                    "deliveries.succeeded": 80},
                                         "queues": {"fetcher": 0, "pipeline": 1, "notifier": 0},
                                         "latency": [{"stage": "fetched_to_matched", "count": 90, "p50": 0.8,
                                                      "p90": 2.1, "p95": 3.0, "p99": 5.2, "max": 9.9}]}]}
    )  # fmt: skip
    since: datetime
    until: datetime
    stages: dict[str, int]
    queues: dict[str, int | None]
    latency: list[LatencyOut]
