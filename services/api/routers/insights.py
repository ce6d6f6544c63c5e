"""/api/v1/feeds/health, /api/v1/feeds/coverage and /api/v1/pipeline: how the sources and the pipeline do.

Registered before the feeds router, so `/feeds/health` is not read as a feed id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from services.api.deps import ReaderDep, SessionDep, SettingsDep
from services.api.params import HoursQ, SinceQ, UntilQ, window
from services.queue import queue_depths
from shared.insights import feeds, pipeline

router = APIRouter(tags=["dashboard"])


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
        json_schema_extra={"examples": [{"days": 7, "states": {"ok": 12, "failing": 1}, "feeds": [
            {"id": 3, "title": "TASS", "url": "https://tass.com/rss/v2.xml", "enabled": True, "health": "ok",
             "country": "RU", "last_success_at": "2026-07-03T08:00:00Z",
             "last_new_item_at": "2026-07-03T07:58:00Z",
             "last_error": None, "last_error_at": None, "consecutive_failures": 0, "items": 210,
             "items_per_day": 30.0}]}]}
    )  # fmt: skip
    days: int
    states: dict[str, int]
    feeds: list[FeedHealthOut]


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


@router.get("/api/v1/feeds/health", response_model=FeedsHealth)
def feeds_health(
    session: SessionDep,
    viewer: ReaderDep,
    days: Annotated[int, Query(ge=1, le=90, description="period of the item counts")] = 7,
) -> FeedsHealth:
    """Every feed of the caller with its state, last success, items per day and last error."""
    states, rows = feeds.health_overview(session=session, viewer=viewer, days=days)
    out = [
        FeedHealthOut(**f.model_dump(include=set(FeedHealthOut.model_fields)), items=n, items_per_day=per_day)
        for f, n, per_day in rows
    ]
    return FeedsHealth(days=days, states=states, feeds=out)


@router.get("/api/v1/feeds/coverage", response_model=Coverage)
def feeds_coverage(
    session: SessionDep, _: ReaderDep, since: SinceQ = None, until: UntilQ = None, hours: HoursQ = 24 * 7
) -> Coverage:
    """How the articles of the window spread over languages and countries."""
    start, end = window(since, until, hours)
    languages, countries, total = feeds.coverage(session=session, since=start, until=end)
    return Coverage(
        since=start,
        until=end,
        total=total,
        languages=[Count(key=k, count=n) for k, n in languages],
        countries=[Count(key=k, count=n) for k, n in countries],
    )


@router.get("/api/v1/pipeline", response_model=PipelineOut)
def pipeline_stats(
    session: SessionDep,
    settings: SettingsDep,
    _: ReaderDep,
    since: SinceQ = None,
    until: UntilQ = None,
    hours: HoursQ = 24,
) -> PipelineOut:
    """Articles per stage, queue depths, and latency percentiles per stage (published → fetched → matched →
    delivered) over the window."""
    start, end = window(since, until, hours)
    return PipelineOut(
        since=start,
        until=end,
        stages=pipeline.stage_counts(session=session),
        queues=queue_depths(settings),
        latency=[
            LatencyOut(**lat.__dict__) for lat in pipeline.latencies(session=session, since=start, until=end)
        ],
    )
