"""Whose resources a caller sees: the one place where dashboard queries filter by owner.

Articles, stories and entities are a shared corpus; watches (and so their matches, alerts and feedback),
feeds and subscriptions belong to an owner. An admin key sees every owner's resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, true
from sqlmodel import Session, col, select

from shared.models import Feed, Watch


@dataclass(frozen=True)
class Viewer:
    """The caller: its key, and the owner whose resources it sees (None with `is_admin`: everyone's)."""

    key_id: int | None = None
    owner_id: int | None = None
    is_admin: bool = False


def _owned(viewer: Viewer, owner_column: Any) -> ColumnElement[bool]:
    if viewer.is_admin or owner_column is None:
        return true()
    return col(owner_column) == viewer.owner_id


def watch_clause(viewer: Viewer) -> ColumnElement[bool]:
    """A condition on `Watch` rows the viewer may see."""
    return _owned(viewer, getattr(Watch, "owner_id", None))


def feed_clause(viewer: Viewer) -> ColumnElement[bool]:
    """A condition on `Feed` rows the viewer may see."""
    return _owned(viewer, getattr(Feed, "owner_id", None))


def visible_watch_ids(viewer: Viewer) -> Any:
    """A subquery of the ids of the watches the viewer may see (for `watch_id IN (...)`)."""
    return select(Watch.id).where(watch_clause(viewer)).scalar_subquery()


def visible_watch(*, session: Session, viewer: Viewer, watch_id: int) -> Watch | None:
    """The watch when it exists and the viewer may see it."""
    return session.exec(select(Watch).where(Watch.id == watch_id, watch_clause(viewer))).first()


def visible_feed(*, session: Session, viewer: Viewer, feed_id: int) -> Feed | None:
    """The feed when it exists and the viewer may see it."""
    return session.exec(select(Feed).where(Feed.id == feed_id, feed_clause(viewer))).first()
