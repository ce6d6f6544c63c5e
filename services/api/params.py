"""Query and path parameters shared by the dashboard's read routes: time windows, ids, the rising test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Path, Query

from shared.config import Settings
from shared.insights.entities import Rising
from shared.insights.schemas import RisingList, RisingOut
from shared.models.base import to_utc, utcnow

MAX_ID = 2**63 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="id")]
SinceQ = Annotated[
    datetime | None, Query(description="window start (ISO 8601); default: `hours` before until")
]
UntilQ = Annotated[datetime | None, Query(description="window end (ISO 8601, exclusive); default: now")]
HoursQ = Annotated[int, Query(ge=1, le=24 * 366, description="window length when `since` is not given")]
MAX_SPAN = timedelta(days=3660)


def window(since: datetime | None, until: datetime | None, hours: int) -> tuple[datetime, datetime]:
    """[since, until) in UTC, defaulting to the last `hours` up to now; bounded to ten years."""
    end = to_utc(until) or utcnow()
    start = to_utc(since) or end - timedelta(hours=hours)
    return max(start, end - MAX_SPAN), end


@dataclass(frozen=True)
class RisingQuery:
    """The rising test's knobs, each defaulting to its setting."""

    until: datetime | None
    window_seconds: int | None
    baseline_windows: int | None
    min_count: int | None
    max_p: float | None
    limit: int


def _rising_query(
    until: Annotated[datetime | None, Query(description="end of the last window (default now)")] = None,
    window_seconds: Annotated[
        int | None, Query(ge=60, le=7 * 86_400, description="window length (default the setting)")
    ] = None,
    baseline_windows: Annotated[
        int | None, Query(ge=1, le=500, description="previous windows compared")
    ] = None,
    min_count: Annotated[int | None, Query(ge=1, le=1_000_000, description="fewest articles to rise")] = None,
    max_p: Annotated[float | None, Query(gt=0, le=1, description="largest p-value that counts")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> RisingQuery:
    return RisingQuery(until, window_seconds, baseline_windows, min_count, max_p, limit)


RisingParams = Annotated[RisingQuery, Depends(_rising_query)]


def rising_args(settings: Settings, q: RisingQuery) -> dict[str, object]:
    """Keyword arguments of shared.insights' rising functions."""
    return {
        "until": to_utc(q.until) or utcnow(),
        "window_seconds": q.window_seconds or settings.trend_window_seconds,
        "baseline_windows": q.baseline_windows or settings.trend_baseline_windows,
        "min_count": q.min_count or settings.trend_min_count,
        "max_p": q.max_p or settings.trend_max_p,
        "limit": q.limit,
    }


def rising_out(items: list[Rising], args: dict[str, object]) -> RisingList:
    """The API form of a rising list."""
    return RisingList(
        items=[
            RisingOut(
                kind=r.kind,
                id=r.id,
                name=r.name,
                label=r.label,
                count=r.test.count,
                baseline_mean=round(r.test.mean, 4),
                expected=round(r.test.expected, 4),
                p_value=r.test.p_value,
                score=round(r.test.score, 3),
                z=round(r.test.z, 3),
                window_start=r.window_start,
                window_seconds=r.window_seconds,
                sources=r.sources,
                languages=r.languages,
            )
            for r in items
        ],
        window_seconds=args["window_seconds"],  # type: ignore[arg-type]
        baseline_windows=args["baseline_windows"],  # type: ignore[arg-type]
        min_count=args["min_count"],  # type: ignore[arg-type]
        max_p=args["max_p"],  # type: ignore[arg-type]
        until=args["until"],  # type: ignore[arg-type]
    )
