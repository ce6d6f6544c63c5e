"""fetcher.* tasks: find due feeds (and WebSub renewals), fetch one feed, subscribe one feed to its hub."""

from __future__ import annotations

from celery import shared_task

from services.queue import chunks, send
from shared.alerts.service import feed_unhealthy
from shared.config import get_settings
from shared.db import session_scope
from shared.fetching import events, push, service, store
from shared.models.base import utcnow

# Feeds that start failing reach subscriptions as feed.unhealthy: fetching reports, alerts listen.
events.listen(feed_unhealthy)


@shared_task(name="fetcher.schedule")
def schedule() -> int:
    """Enqueue a fetch for every due feed and a subscription for every WebSub lease due for renewal."""
    settings = get_settings()
    with session_scope() as session:
        now = utcnow()
        ids = store.claim_due_feed_ids(
            session=session,
            now=now,
            lease_seconds=max(settings.fetch_timeout_seconds * 4, 60),
            limit=500,
        )
        renewals = store.due_websub_renewals(session=session, now=now)
    for feed_id in ids:
        send("fetcher.fetch", [feed_id])
    for feed_id in renewals:
        send("fetcher.websub_subscribe", [feed_id])
    return len(ids)


@shared_task(name="fetcher.fetch")
def fetch(feed_id: int) -> int:
    """Fetch one feed; new articles go to the pipeline in batches, health events to the notifier."""
    settings = get_settings()
    outcome = service.fetch_feed(
        feed_id=feed_id,
        settings=settings,
        session_factory=session_scope,
        limiter=service.host_limiter(settings),
    )
    for batch in chunks(outcome.new_article_ids, settings.pipeline_batch_size):
        send("pipeline.process_batch", [batch])
    for delivery_id in outcome.delivery_ids:
        send("notifier.deliver", [delivery_id])
    if outcome.websub_subscribe:
        send("fetcher.websub_subscribe", [feed_id])
    return len(outcome.new_article_ids)


@shared_task(name="fetcher.websub_subscribe")
def websub_subscribe(feed_id: int) -> str:
    """Ask the feed's hub for a (renewed) subscription; the hub then verifies through the API callback."""
    with session_scope() as session:
        return push.subscribe(session=session, feed_id=feed_id, settings=get_settings())
