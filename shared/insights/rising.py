"""The rising lists as the API gives them: the test's knobs (defaulting to the settings) and the result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.config import Settings
from shared.insights.entities import Rising
from shared.insights.schemas import RisingList, RisingOut
from shared.models.base import to_utc, utcnow


@dataclass(frozen=True)
class RisingQuery:
    """The rising test's knobs; None takes the setting."""

    until: datetime | None = None
    window_seconds: int | None = None
    baseline_windows: int | None = None
    min_count: int | None = None
    max_p: float | None = None
    limit: int = 20


def rising_args(settings: Settings, q: RisingQuery) -> dict[str, Any]:
    """Keyword arguments of rising_entities and rising_stories."""
    return {
        "until": to_utc(q.until) or utcnow(),
        "window_seconds": q.window_seconds or settings.trend_window_seconds,
        "baseline_windows": q.baseline_windows or settings.trend_baseline_windows,
        "min_count": q.min_count or settings.trend_min_count,
        "max_p": q.max_p or settings.trend_max_p,
        "limit": q.limit,
    }


def rising_list(items: list[Rising], args: dict[str, Any]) -> RisingList:
    """The API form of a rising list, with the parameters of its test."""
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
        window_seconds=args["window_seconds"],
        baseline_windows=args["baseline_windows"],
        min_count=args["min_count"],
        max_p=args["max_p"],
        until=args["until"],
    )
