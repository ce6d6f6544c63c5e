"""notifier.* tasks: one delivery attempt; sweep due deliveries."""

from __future__ import annotations

from celery import shared_task

from services.queue import send
from shared.alerts import outbox
from shared.config import get_settings
from shared.db import session_scope

MAX_COUNTDOWN = 60.0  # longer waits stay in the database (next_attempt_at) for the sweep


@shared_task(name="notifier.deliver", bind=True)
def deliver(self, delivery_id: int) -> str:  # type: ignore[no-untyped-def]
    """Send one delivery if due; a retry due within a minute is re-enqueued with a countdown."""
    outcome = outbox.deliver(delivery_id=delivery_id, settings=get_settings(), session_factory=session_scope)
    if outcome.status == "retry" and outcome.retry_in is not None and outcome.retry_in <= MAX_COUNTDOWN:
        self.apply_async(args=[delivery_id], countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="notifier.sweep")
def sweep() -> int:
    """Enqueue every due delivery that no worker holds."""
    with session_scope() as session:
        ids = outbox.due_deliveries(session=session)
    for delivery_id in ids:
        send("notifier.deliver", [delivery_id])
    return len(ids)
