"""The gauges a /metrics scrape reads at that moment: backlogs and feed states from the database, queue
depths from the broker (given by the caller)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func
from sqlmodel import Session, col, select

from shared.metrics import Snapshot
from shared.models import Article, Delivery, Feed
from shared.models.article import STATUS_FETCHED
from shared.models.delivery import FAILED, PENDING

FEED_STATES = ("ok", "degraded", "failing", "stale", "disabled")


def snapshot(*, session: Session, queue_depths: Mapping[str, int | None]) -> Snapshot:
    """Queue depths, articles waiting for processing, deliveries pending and dead-lettered, feeds per state.

    Each is one indexed count (or a scan of the small feeds table), cheap at any corpus size.
    """
    snap = Snapshot()
    snap.gauge(
        "newswatch_queue_depth",
        "Messages waiting in each broker queue",
        ["queue"],
        [([q], float(n)) for q, n in queue_depths.items() if n is not None],
    )
    waiting = session.exec(select(func.count()).where(Article.status == STATUS_FETCHED)).one()
    snap.gauge(
        "newswatch_articles_waiting", "Articles stored and not processed yet", [], [([], float(waiting))]
    )
    by_status = dict(
        session.exec(
            select(Delivery.status, func.count())
            .where(col(Delivery.status).in_((PENDING, FAILED)))
            .group_by(col(Delivery.status))
        ).all()
    )
    snap.gauge(
        "newswatch_deliveries_open",
        "Deliveries pending (due or waiting for a retry) and failed (the dead-letter list)",
        ["status"],
        [([s], float(by_status.get(s, 0))) for s in (PENDING, FAILED)],
    )
    feeds = {s: 0 for s in FEED_STATES}
    for health, enabled, n in session.exec(
        select(Feed.health, Feed.enabled, func.count()).group_by(col(Feed.health), col(Feed.enabled))
    ):
        state = health if enabled else "disabled"
        feeds[state] = feeds.get(state, 0) + int(n)
    snap.gauge(
        "newswatch_feeds", "Feeds per health state", ["state"], [([s], float(n)) for s, n in feeds.items()]
    )
    return snap
