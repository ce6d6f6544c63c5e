"""pipeline.* tasks: process a batch of articles; sweep articles left unprocessed."""

from __future__ import annotations

import gc
import logging
from typing import Any

from celery import shared_task, signals
from sqlalchemy.exc import OperationalError

from services.dispatch import enqueue_deliveries, enqueue_processing
from services.queue import pool_processes
from shared import logs
from shared.config import get_settings
from shared.db import get_engine, session_scope
from shared.pipeline import service
from shared.search.backfill import index_missing

log = logging.getLogger(__name__)


@signals.celeryd_after_setup.connect
def _warm(instance: Any = None, **_: Any) -> None:
    """A worker taking pipeline tasks loads the model and compiles the watches before its pool forks
    (service.warm; this signal comes once logging is set up, before the pool starts). Then the database
    connections it used are closed (a forked child must open its own) and what it loaded is frozen out of
    the garbage collector's scans (pages stay shared with the children, and no collection walks the
    model's objects again)."""
    queues = getattr(getattr(getattr(instance, "app", None), "amqp", None), "queues", None)
    consumed = getattr(queues, "consume_from", None)
    if consumed is not None and "pipeline" not in consumed:
        return
    try:
        service.warm(sessions=session_scope, settings=get_settings())
    except Exception as exc:  # the first batch loads them instead
        log.warning("pipeline warm-up failed, the first batch loads the model and watches: %s", exc)
    finally:
        get_engine().dispose()
    gc.freeze()


@shared_task(
    name="pipeline.process_batch",
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def process_batch(article_ids: list[int]) -> int:
    """Entities, matching and alerts for these articles; deliveries are enqueued after the commit.

    Waiting articles picked up to fill the batch are shared among the worker's pool processes. A failing
    watch or article is contained by the service (quarantine, batch split); only database errors that pass
    reach the retry here.
    """
    settings = get_settings()
    with logs.context(article_ids=article_ids):
        delivery_ids = service.process_batch(
            sessions=session_scope, article_ids=article_ids, settings=settings, share=pool_processes()
        )
    enqueue_deliveries(delivery_ids)
    return len(delivery_ids)


@shared_task(name="pipeline.sweep")
def sweep() -> int:
    """Re-enqueue articles stuck in `fetched` (a lost message, a killed worker)."""
    settings = get_settings()
    with session_scope() as session:
        ids = service.stuck_article_ids(
            session=session, older_than_seconds=settings.pipeline_stuck_after_seconds
        )
    enqueue_processing(ids, settings=settings)
    return len(ids)


@shared_task(name="pipeline.index_missing")
def index_missing_articles() -> int:
    """Index a bounded number of processed articles that have no search row (stored before the search
    index existed); hourly by default, as finding them reads the whole articles table."""
    settings = get_settings()
    if not settings.search_backfill_per_run:
        return 0
    return index_missing(sessions=session_scope, max_articles=settings.search_backfill_per_run)
