"""trend.rising events: what is rising in the current window goes out once, signed like an alert.

Windows are aligned (multiples of the window length since the epoch), so "once per entity or story per
window" is a unique row (kind, id, window start) in `trend_events`, and the delivery's event key carries
the same triple. The test runs on the current window so far against the N complete windows before it, so
an event fires as soon as the count becomes significant. At most `trend_max_events_per_window` events
fire per window across everything, the most surprising first (a throttle against a flood on a big day).
Deliveries use the outbox path of alerts: written in this transaction, sent after commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from shared.alerts import payload
from shared.alerts.service import enqueue_event
from shared.config import Settings
from shared.insights.entities import Rising, rising_entities
from shared.insights.stories import rising_stories
from shared.insights.windows import floor_time
from shared.models import TrendEvent
from shared.models.base import utcnow


def current_rising(*, session: Session, settings: Settings, now: datetime) -> list[Rising]:
    """Entities and stories rising in the aligned window holding `now`, most surprising first."""
    w = settings.trend_window_seconds
    end = floor_time(now, w) + timedelta(seconds=w)
    common: dict[str, Any] = {
        "session": session,
        "until": end,
        "window_seconds": w,
        "baseline_windows": settings.trend_baseline_windows,
        "min_count": settings.trend_min_count,
        "max_p": settings.trend_max_p,
        "limit": max(1, settings.trend_max_events_per_window),
    }
    found = rising_entities(**common) + rising_stories(**common)
    return sorted(found, key=lambda r: (-r.test.score, r.kind, r.id))


def fire_trend_events(*, session: Session, settings: Settings, now: datetime | None = None) -> list[int]:
    """Record and enqueue the trend.rising events due now; returns the delivery ids to send after commit."""
    if settings.trend_max_events_per_window <= 0:
        return []
    now = now or utcnow()
    start = floor_time(now, settings.trend_window_seconds)
    fired = session.exec(select(func.count()).where(TrendEvent.window_start == start)).one()
    budget = settings.trend_max_events_per_window - int(fired)
    ids: list[int] = []
    for item in current_rising(session=session, settings=settings, now=now):
        if budget <= 0:
            break
        row = TrendEvent(
            kind=item.kind,
            ref_id=item.id,
            name=item.name[:500],
            window_start=start,
            window_seconds=settings.trend_window_seconds,
            count=item.test.count,
            baseline=item.test.mean,
            score=item.test.score,
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            continue  # fired already in this window
        budget -= 1
        data = payload.trend_rising_data(
            kind=item.kind,
            ref_id=item.id,
            name=item.name,
            label=item.label,
            window_start=start,
            window_seconds=settings.trend_window_seconds,
            count=item.test.count,
            baseline=item.test.mean,
            p_value=item.test.p_value,
            score=item.test.score,
            sources=item.sources,
            languages=item.languages,
        )
        key = f"{payload.TREND_RISING}:{item.kind}:{item.id}:{start.isoformat()}"
        ids += enqueue_event(session=session, event_type=payload.TREND_RISING, event_key=key, data=data)
    return ids
