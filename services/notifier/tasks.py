"""notifier.* tasks: one delivery attempt; the sweep (due deliveries, throttle digests)."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task

from services.queue import chunks, send
from shared.alerts import outbox, service
from shared.config import get_settings
from shared.db import session_scope
from shared.insights.events import fire_trend_events

log = logging.getLogger(__name__)

MAX_COUNTDOWN = 60.0  # longer waits stay in the database (next_attempt_at) for the sweep
BATCH = 50  # deliveries per task when the sweep enqueues a backlog


@shared_task(name="notifier.deliver", bind=True)
def deliver(self: Task[Any, Any], delivery_id: int | list[int]) -> str:
    """Send one delivery, or a batch (one claim and one record transaction), if due; a retry due within a
    minute is re-enqueued with a countdown, later ones wait in the database for the sweep."""
    ids = delivery_id if isinstance(delivery_id, list) else [delivery_id]
    outcomes = outbox.deliver_many(delivery_ids=ids, settings=get_settings(), session_factory=session_scope)
    for outcome in outcomes.values():
        for follow_up in outcome.follow_up:  # endpoint.disabled events to the owner's other subscriptions
            send("notifier.deliver", [follow_up])
    for did, outcome in outcomes.items():
        if outcome.retry_in is not None and outcome.retry_in <= MAX_COUNTDOWN:
            try:
                self.apply_async(args=(did,), countdown=outcome.retry_in)
            except Exception as exc:  # the broker is down: the sweep finds the row when it is due
                log.warning("could not re-enqueue delivery %s: %s", did, exc)
    statuses = [o.status for o in outcomes.values()]
    return statuses[0] if len(statuses) == 1 else ",".join(f"{s}:{statuses.count(s)}" for s in set(statuses))


@shared_task(name="notifier.sweep")
def sweep() -> int:
    """Enqueue every due delivery no worker holds (claimed with SKIP LOCKED); raise due throttle digests."""
    settings = get_settings()
    with session_scope() as session:
        ids = outbox.sweep(session=session, settings=settings)
    for batch in chunks(ids, BATCH):
        send("notifier.deliver", [batch])
    with session_scope() as session:
        digest_ids = service.digest_throttled(session=session, settings=settings)
    for delivery_id in digest_ids:
        send("notifier.deliver", [delivery_id])
    return len(ids) + len(digest_ids)


@shared_task(name="notifier.trends")
def trends() -> int:
    """Fire trend.rising events for what rose in the current window (once per window), then send them."""
    with session_scope() as session:
        ids = fire_trend_events(session=session, settings=get_settings())
    for batch in chunks(ids, BATCH):
        send("notifier.deliver", [batch])
    return len(ids)
