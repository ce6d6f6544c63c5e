"""notifier.* tasks: one delivery attempt; the sweep (due deliveries, throttle digests)."""

from __future__ import annotations

import logging

from celery import shared_task

from services.queue import send
from shared.alerts import outbox, service
from shared.config import get_settings
from shared.db import session_scope

log = logging.getLogger(__name__)

MAX_COUNTDOWN = 60.0  # longer waits stay in the database (next_attempt_at) for the sweep


@shared_task(name="notifier.deliver", bind=True)
def deliver(self, delivery_id: int) -> str:  # type: ignore[no-untyped-def]
    """Send one delivery if due; a retry due within a minute is re-enqueued with a countdown."""
    outcome = outbox.deliver(delivery_id=delivery_id, settings=get_settings(), session_factory=session_scope)
    for follow_up in outcome.follow_up:  # endpoint.disabled events to the owner's other subscriptions
        send("notifier.deliver", [follow_up])
    if outcome.retry_in is not None and outcome.retry_in <= MAX_COUNTDOWN:
        try:
            self.apply_async(args=[delivery_id], countdown=outcome.retry_in)
        except Exception as exc:  # the broker is down: the sweep finds the row when it is due
            log.warning("could not re-enqueue delivery %s: %s", delivery_id, exc)
    return outcome.status


@shared_task(name="notifier.sweep")
def sweep() -> int:
    """Enqueue every due delivery no worker holds (claimed with SKIP LOCKED); raise due throttle digests."""
    settings = get_settings()
    with session_scope() as session:
        ids = outbox.sweep(session=session, settings=settings)
    for delivery_id in ids:
        send("notifier.deliver", [delivery_id])
    with session_scope() as session:
        digest_ids = service.digest_throttled(session=session, settings=settings)
    for delivery_id in digest_ids:
        send("notifier.deliver", [delivery_id])
    return len(ids) + len(digest_ids)
