"""Path and query parameters every router shares: bounded ids and keyset pagination (`?limit=&before=`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Path, Query

from shared.insights.rising import RisingQuery
from shared.models.base import to_utc, utcnow
from shared.schemas import MAX_INT

IdPath = Annotated[int, Path(ge=1, le=MAX_INT, description="the resource's id")]
LimitQ = Annotated[int, Query(ge=1, le=200, description="page size")]
BeforeQ = Annotated[
    int | None,
    Query(
        ge=1, le=MAX_INT, description="return items with an id below this (the previous page's next_before)"
    ),
]

# --- the dashboard's windows and rising test ----------------------------------------------------------------
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
