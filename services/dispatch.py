"""Typed task dispatch: the one place that names tasks, sizes their batches and sends them.

Every message between processes carries ids only and is sent after the caller committed the rows it names.
Callers say what should happen (`enqueue_processing(article_ids)`), not which task string takes what
argument shape. Routing stays with the Celery app (queue = task-name prefix, services/queue.py).

A broker error is never raised to the caller and never silent: it is logged with the ids it concerned and
counted per task (this process's in `enqueue_failures()`, shown in /readyz; every process's in the
`newswatch_enqueue_failures` counter of /metrics). The database is the source of truth: the sweeps
(pipeline.sweep, notifier.sweep, fetcher.schedule) find the rows again, so nothing is lost.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

from services.queue import app
from shared import metrics
from shared.config import Settings, get_settings

log = logging.getLogger(__name__)

FETCH = "fetcher.fetch"
WEBSUB_SUBSCRIBE = "fetcher.websub_subscribe"
PROCESS_BATCH = "pipeline.process_batch"
DELIVER = "notifier.deliver"
TASK_NAMES = (FETCH, WEBSUB_SUBSCRIBE, PROCESS_BATCH, DELIVER)

# deliveries per notifier task: the notifier sends a batch in parallel, each under its endpoint's limits
DELIVERY_BATCH = 50

_failures: Counter[str] = Counter()
_lock = threading.Lock()


def chunks(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    """Split ids into batches of at most `size`."""
    for i in range(0, len(ids), size):
        yield list(ids[i : i + size])


def enqueue_failures() -> dict[str, int]:
    """Messages this process could not hand to the broker since it started, per task name."""
    with _lock:
        return dict(_failures)


def reset_failures() -> None:
    """Forget the counts (tests)."""
    with _lock:
        _failures.clear()


def _send(task: str, arg: int | list[int], *, countdown: float | None = None) -> bool:
    """Send one message; on a broker error log the ids, count it, and return False (the sweep recovers)."""
    try:
        app.send_task(task, args=[arg], countdown=countdown)
    except Exception as exc:  # any broker or transport error: the database still holds the work
        with _lock:
            _failures[task] += 1
        metrics.inc("enqueue_failures", task=task)  # every process's count, summed at /metrics
        log.error("could not enqueue %s for ids %s: %r (the sweep will pick them up)", task, arg, exc)
        return False
    return True


def enqueue_fetch(feed_ids: Iterable[int]) -> bool:
    """One fetch task per feed (each feed is fetched on its own, under its host's politeness)."""
    return all([_send(FETCH, feed_id) for feed_id in feed_ids])


def enqueue_websub_subscribe(feed_ids: Iterable[int]) -> bool:
    """One hub (re)subscription task per feed."""
    return all([_send(WEBSUB_SUBSCRIBE, feed_id) for feed_id in feed_ids])


def enqueue_processing(
    article_ids: Sequence[int], *, settings: Settings | None = None, batch_size: int | None = None
) -> bool:
    """Process these (committed) articles, in batches of `pipeline_batch_size` (or `batch_size`)."""
    size = batch_size or (settings or get_settings()).pipeline_batch_size
    return all([_send(PROCESS_BATCH, batch) for batch in chunks(article_ids, size)])


def enqueue_deliveries(delivery_ids: Sequence[int], *, batch_size: int = DELIVERY_BATCH) -> bool:
    """Attempt these (committed) deliveries, `batch_size` per notifier task."""
    return all([_send(DELIVER, batch) for batch in chunks(delivery_ids, batch_size)])


def enqueue_delivery_retry(delivery_id: int, *, countdown: float) -> bool:
    """Attempt one delivery again after `countdown` seconds (short waits only; longer ones wait in the
    database for notifier.sweep, below the broker's visibility timeout)."""
    return _send(DELIVER, delivery_id, countdown=countdown)
