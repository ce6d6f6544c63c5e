"""Whose resources a caller sees: the one place where the dashboard's queries filter by owner.

Articles, stories and entities are a shared corpus; watches (and so their matches, alerts and feedback),
feeds and subscriptions belong to an account. An admin key sees every account's resources
(`Caller.owner_filter` is None then).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, true
from sqlmodel import Session, col, select

from shared.models import Feed, Watch
from shared.security.access import Caller


def _owned(caller: Caller, owner_column: Any) -> ColumnElement[bool]:
    owner = caller.owner_filter
    return true() if owner is None else col(owner_column) == owner


def watch_clause(caller: Caller) -> ColumnElement[bool]:
    """A condition on `Watch` rows the caller may see."""
    return _owned(caller, Watch.owner_id)


def feed_clause(caller: Caller) -> ColumnElement[bool]:
    """A condition on `Feed` rows the caller may see."""
    return _owned(caller, Feed.owner_id)


def visible_watch(*, session: Session, caller: Caller, watch_id: int) -> Watch | None:
    """The watch when it exists and the caller may see it."""
    return session.exec(select(Watch).where(Watch.id == watch_id, watch_clause(caller))).first()


def visible_feed(*, session: Session, caller: Caller, feed_id: int) -> Feed | None:
    """The feed when it exists and the caller may see it."""
    return session.exec(select(Feed).where(Feed.id == feed_id, feed_clause(caller))).first()
