"""/api/v1/feeds/health, /api/v1/feeds/coverage and /api/v1/pipeline: how the sources and the pipeline do.

Registered before the feeds router, so `/feeds/health` is not read as a feed id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.api.deps import CallerDep, SessionDep, SettingsDep
from services.api.params import HoursQ, SinceQ, UntilQ, window
from services.queue import queue_depths
from shared.insights import feeds, pipeline
from shared.insights.schemas import Count, Coverage, FeedHealthOut, FeedsHealth, LatencyOut, PipelineOut

router = APIRouter(tags=["dashboard"])


@router.get("/api/v1/feeds/health", response_model=FeedsHealth)
def feeds_health(
    session: SessionDep,
    caller: CallerDep,
    days: Annotated[int, Query(ge=1, le=90, description="period of the item counts")] = 7,
) -> FeedsHealth:
    """Every feed of the caller with its state, last success, items per day and last error."""
    states, rows = feeds.health_overview(session=session, caller=caller, days=days)
    out = [
        FeedHealthOut(**f.model_dump(include=set(FeedHealthOut.model_fields)), items=n, items_per_day=per_day)
        for f, n, per_day in rows
    ]
    return FeedsHealth(days=days, states=states, items=out)


@router.get("/api/v1/feeds/coverage", response_model=Coverage)
def feeds_coverage(
    session: SessionDep, _: CallerDep, since: SinceQ = None, until: UntilQ = None, hours: HoursQ = 24 * 7
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
    _: CallerDep,
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
