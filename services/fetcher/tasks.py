"""fetcher.* tasks: find due feeds, fetch one feed."""

from __future__ import annotations

from celery import shared_task

from services.queue import chunks, send
from shared.config import get_settings
from shared.db import session_scope
from shared.fetching import service, store
from shared.models.base import utcnow


@shared_task(name="fetcher.schedule")
def schedule() -> int:
    """Enqueue a fetch for every due feed."""
    settings = get_settings()
    with session_scope() as session:
        ids = store.claim_due_feed_ids(
            session=session,
            now=utcnow(),
            lease_seconds=max(settings.fetch_timeout_seconds * 4, 60),
            limit=500,
        )
    for feed_id in ids:
        send("fetcher.fetch", [feed_id])
    return len(ids)


@shared_task(name="fetcher.fetch")
def fetch(feed_id: int) -> int:
    """Fetch one feed; its new articles go to the pipeline in batches."""
    settings = get_settings()
    outcome = service.fetch_feed(feed_id=feed_id, settings=settings, session_factory=session_scope)
    for batch in chunks(outcome.new_article_ids, settings.pipeline_batch_size):
        send("pipeline.process_batch", [batch])
    return len(outcome.new_article_ids)
