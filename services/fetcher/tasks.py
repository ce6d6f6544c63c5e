"""fetcher.* tasks: find due feeds (and WebSub renewals), fetch one feed, subscribe one feed to its hub."""

from __future__ import annotations

from celery import shared_task

from services.dispatch import enqueue_deliveries, enqueue_fetch, enqueue_processing, enqueue_websub_subscribe
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
    enqueue_fetch(ids)
    enqueue_websub_subscribe(renewals)
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
    enqueue_processing(outcome.new_article_ids, settings=settings)
    enqueue_deliveries(outcome.delivery_ids, batch_size=1)
    if outcome.websub_subscribe:
        enqueue_websub_subscribe([feed_id])
    return len(outcome.new_article_ids)


@shared_task(name="fetcher.websub_subscribe")
def websub_subscribe(feed_id: int) -> str:
    """Ask the feed's hub for a (renewed) subscription; the hub then verifies through the API callback."""
    with session_scope() as session:
        return push.subscribe(session=session, feed_id=feed_id, settings=get_settings())
