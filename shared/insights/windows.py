"""Time windows: aligned buckets for charts, and "how many windows before `until`" in SQL for rising."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Integer, cast, func, literal
from sqlmodel import Session

from shared.db import is_sqlite

BUCKETS = {"hour": 3600, "day": 86400}
MAX_BUCKETS = 2000


def floor_time(when: datetime, seconds: int) -> datetime:
    """The start of the aligned window (multiples of `seconds` since the epoch, UTC) holding `when`."""
    ts = int(when.astimezone(UTC).timestamp())
    return datetime.fromtimestamp(ts - ts % seconds, tz=UTC)


def bucket_starts(since: datetime, until: datetime, seconds: int) -> list[datetime]:
    """Every aligned bucket start from the one holding `since` to the one before `until` (capped)."""
    out: list[datetime] = []
    t = floor_time(since, seconds)
    while t < until and len(out) < MAX_BUCKETS:
        out.append(t)
        t += timedelta(seconds=seconds)
    return out


def windows_ago(session: Session, column: Any, until: datetime, seconds: int) -> Any:
    """SQL: 0 for a time in [until - seconds, until), 1 for the window before, and so on (times < until)."""
    if is_sqlite(session):
        end = literal(until.astimezone(UTC), DateTime())
        age = (func.julianday(end) - func.julianday(column)) * 86400.0
        return cast(age / seconds, Integer)  # SQLite truncates: floor, as ages are never negative
    age = func.extract("epoch", literal(until, DateTime(timezone=True)) - column)
    return cast(func.floor(age / seconds), Integer)  # PostgreSQL's cast rounds
