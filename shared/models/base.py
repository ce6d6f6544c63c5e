"""Shared column helpers. All timestamps are timezone-aware UTC (SQLModel's UTCDateTime stores them)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Table, Text
from sqlmodel import SQLModel

# What neither database stores as text: NUL (PostgreSQL refuses it) and lone UTF-16 surrogates (not UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` as both databases can store it: NUL dropped, a lone surrogate replaced by U+FFFD.

    Text from outside (feeds, pages, pushes, error messages quoting them) goes through this before it is
    stored; a document holding such characters is otherwise read whole.
    """
    if not _UNSTORABLE.search(text):
        return text
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


def shift(when: datetime, delta: timedelta) -> datetime:
    """`when + delta`, stopping at the first or last instant of the calendar instead of overflowing."""
    try:
        return when + delta
    except OverflowError:
        edge = datetime.max if delta > timedelta(0) else datetime.min
        return edge.replace(tzinfo=when.tzinfo)


def to_utc(value: datetime | None) -> datetime | None:
    """An aware UTC datetime; naive values are taken as UTC already."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model (for Core inserts and selects)."""
    table: Table = model.__table__  # type: ignore[attr-defined]  # set on table=True classes, not declared
    return table


def json_column(**kwargs: Any) -> Column[Any]:
    """A JSON column (JSONB-free so SQLite and PostgreSQL share one migration)."""
    return Column(JSON, **kwargs)


def text_column(**kwargs: Any) -> Column[Any]:
    """An unbounded text column."""
    return Column(Text, **kwargs)
