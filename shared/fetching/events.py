"""Feed-health events raised by fetching and heard by a higher layer, without fetching importing it.

Fetching sits below alerts (alerts reach subscriptions through the outbox), so a feed that starts failing is
reported here and whoever cares registers a listener at start-up: the fetcher tasks register alerts'
`feed_unhealthy`, which writes the feed.unhealthy deliveries. A listener returns the ids of deliveries to
enqueue after the caller commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlmodel import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedUnhealthy:
    """A feed moved into failing or stale; `event_id` is its stored feed event (one per start of trouble)."""

    feed_id: int
    url: str
    health: str
    reason: str
    since: datetime
    failures: int
    event_id: int
    owner_id: int | None = None  # the feed's account: only its subscriptions hear of it


class FeedHealthListener(Protocol):
    """Hears feed.unhealthy inside the fetch's transaction; returns delivery ids to enqueue after commit."""

    def __call__(self, *, session: Session, event: FeedUnhealthy) -> list[int]: ...


_LISTENERS: list[FeedHealthListener] = []


def listen(listener: FeedHealthListener) -> None:
    """Register a listener (once; registering the same one again does nothing)."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def forget(listener: FeedHealthListener) -> None:
    """Unregister a listener (tests)."""
    if listener in _LISTENERS:
        _LISTENERS.remove(listener)


def report_unhealthy(*, session: Session, event: FeedUnhealthy) -> list[int]:
    """Tell every listener; returns the delivery ids they wrote."""
    if not _LISTENERS:
        log.warning("feed %s is %s but nothing listens for feed.unhealthy", event.feed_id, event.health)
        return []
    ids: list[int] = []
    for listener in _LISTENERS:
        ids += listener(session=session, event=event)
    return ids
