"""notifier.* tasks: one delivery attempt; the sweep (due deliveries, throttle digests)."""

from __future__ import annotations

import logging

from celery import shared_task

from services.dispatch import enqueue_deliveries, enqueue_delivery_retry
from shared import logs, metrics
from shared.alerts import outbox, service
from shared.config import get_settings
from shared.db import session_scope
from shared.insights.events import fire_trend_events

log = logging.getLogger(__name__)

MAX_COUNTDOWN = 60.0  # longer waits stay in the database (next_attempt_at) for the sweep


@shared_task(name="notifier.deliver")
def deliver(delivery_id: int | list[int]) -> str:
    """Send one delivery, or a batch (one claim and one record transaction), if due; a retry due within a
    minute is re-enqueued with a countdown, later ones wait in the database for the sweep."""
    ids = delivery_id if isinstance(delivery_id, list) else [delivery_id]
    with logs.context(delivery_ids=ids):
        outcomes = outbox.deliver_many(
            delivery_ids=ids, settings=get_settings(), session_factory=session_scope
        )
    for did, outcome in outcomes.items():
        metrics.inc("deliveries", outcome=outcome.status)
        if outcome.status in ("failed", "disabled", "retry"):
            err = outcome.result.error or outcome.result.status_code if outcome.result else None
            log.info("delivery %s: %s (%s)", did, outcome.status, err, extra={"delivery_id": did})
    for outcome in outcomes.values():
        # endpoint.disabled events to the owner's other subscriptions
        enqueue_deliveries(outcome.follow_up, batch_size=1)
    for did, outcome in outcomes.items():
        if outcome.retry_in is not None and outcome.retry_in <= MAX_COUNTDOWN:
            enqueue_delivery_retry(did, countdown=outcome.retry_in)
    statuses = [o.status for o in outcomes.values()]
    return statuses[0] if len(statuses) == 1 else ",".join(f"{s}:{statuses.count(s)}" for s in set(statuses))


@shared_task(name="notifier.sweep")
def sweep() -> int:
    """Enqueue every due delivery no worker holds (claimed with SKIP LOCKED); raise due throttle digests."""
    settings = get_settings()
    with session_scope() as session:
        ids = outbox.sweep(session=session, settings=settings)
    enqueue_deliveries(ids)
    with session_scope() as session:
        digest_ids = service.digest_throttled(session=session, settings=settings)
    enqueue_deliveries(digest_ids, batch_size=1)
    return len(ids) + len(digest_ids)


@shared_task(name="notifier.trends")
def trends() -> int:
    """Fire trend.rising events for what rose in the current window (once per window), then send them."""
    with session_scope() as session:
        ids = fire_trend_events(session=session, settings=get_settings())
    enqueue_deliveries(ids)
    return len(ids)
