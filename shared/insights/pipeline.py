"""The pipeline at a glance: articles per stage, and latency percentiles per stage over a window.

Stages: published → fetched (the source's delay and our polling), fetched → matched (processing: the
article's processed time, which is when its alerts were raised), matched → delivered (an alert's creation
to its webhook's success). Percentiles come from the most recent `SAMPLE` values of each stage.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from shared.models import Alert, Article, Delivery
from shared.models.base import to_utc
from shared.models.delivery import SUCCEEDED

SAMPLE = 20_000
PERCENTILES = (50, 90, 95, 99)


@dataclass(frozen=True)
class Latency:
    """Seconds from one stage to the next: count and percentiles (None without samples)."""

    stage: str
    count: int
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    max: float | None


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The p-th percentile of sorted values (nearest rank)."""
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def latency(stage: str, seconds: Sequence[float]) -> Latency:
    """Percentiles of a stage's delays (negative delays, from clock skew, count as zero)."""
    values = sorted(max(0.0, s) for s in seconds)
    if not values:
        return Latency(stage, 0, None, None, None, None, None)
    p50, p90, p95, p99 = (round(percentile(values, q), 3) for q in PERCENTILES)
    return Latency(stage, len(values), p50, p90, p95, p99, round(values[-1], 3))


def _delta(a: datetime | None, b: datetime | None) -> float | None:
    a, b = to_utc(a), to_utc(b)
    return None if a is None or b is None else (b - a).total_seconds()


def stage_counts(*, session: Session) -> dict[str, int]:
    """Articles per status (fetched: waiting for processing) and deliveries per status."""
    out = {
        f"articles.{s}": int(n)
        for s, n in session.exec(select(Article.status, func.count()).group_by(col(Article.status)))
    }
    out |= {
        f"deliveries.{s}": int(n)
        for s, n in session.exec(select(Delivery.status, func.count()).group_by(col(Delivery.status)))
    }
    return out


def latencies(*, session: Session, since: datetime, until: datetime) -> list[Latency]:
    """Per stage, over articles fetched (and deliveries made) in [since, until)."""
    arts = session.exec(
        select(Article.published_at, Article.fetched_at, Article.processed_at)
        .where(col(Article.fetched_at) >= since, col(Article.fetched_at) < until)
        .order_by(col(Article.fetched_at).desc())
        .limit(SAMPLE)
    ).all()
    fetch = [d for p, f, _ in arts if (d := _delta(p, f)) is not None]
    process = [d for _, f, m in arts if (d := _delta(f, m)) is not None]
    sent = session.exec(
        select(Alert.created_at, Delivery.delivered_at, Article.published_at)
        .join(Alert, col(Alert.id) == Delivery.alert_id)
        .join(Article, col(Article.id) == Alert.article_id)
        .where(
            Delivery.status == SUCCEEDED,
            col(Delivery.delivered_at) >= since,
            col(Delivery.delivered_at) < until,
        )
        .order_by(col(Delivery.delivered_at).desc())
        .limit(SAMPLE)
    ).all()
    deliver = [d for c, dl, _ in sent if (d := _delta(c, dl)) is not None]
    total = [d for _, dl, p in sent if (d := _delta(p, dl)) is not None]
    return [
        latency("published_to_fetched", fetch),
        latency("fetched_to_matched", process),
        latency("matched_to_delivered", deliver),
        latency("published_to_delivered", total),
    ]
