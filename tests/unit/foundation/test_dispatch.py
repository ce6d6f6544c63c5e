"""Typed task dispatch: names are registered tasks, batches are sized here, broker errors are loud."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

import services.fetcher.tasks  # registers the fetcher.* tasks (so do the next two)
import services.notifier.tasks
import services.pipeline.tasks  # noqa: F401
from services import dispatch
from services.api.routers import health
from services.queue import app
from shared import metrics
from shared.config import fresh_settings


class RecordingBroker:
    """Stands in for the Celery app: records what would be sent, or raises like a broker that is down."""

    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[tuple[str, list[Any], float | None]] = []
        self.error = error

    def send_task(self, name: str, args: list[Any], countdown: float | None = None) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append((name, args, countdown))


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> RecordingBroker:
    fake = RecordingBroker()
    monkeypatch.setattr(dispatch, "app", fake)
    dispatch.reset_failures()
    return fake


# One call per enqueue function; a new enqueue function must be added here (the test below insists).
CALLS: dict[str, Callable[[], bool]] = {
    "enqueue_fetch": lambda: dispatch.enqueue_fetch([1, 2]),
    "enqueue_websub_subscribe": lambda: dispatch.enqueue_websub_subscribe([3]),
    "enqueue_processing": lambda: dispatch.enqueue_processing(list(range(40))),
    "enqueue_deliveries": lambda: dispatch.enqueue_deliveries(list(range(120))),
    "enqueue_delivery_retry": lambda: dispatch.enqueue_delivery_retry(7, countdown=5),
}


def test_every_enqueue_function_is_exercised() -> None:
    names = {n for n in vars(dispatch) if n.startswith("enqueue_") and n != "enqueue_failures"}
    assert names == set(CALLS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_task_sent_is_a_registered_celery_task(broker: RecordingBroker, name: str) -> None:
    assert CALLS[name]() is True
    assert broker.sent
    for task, _, _ in broker.sent:
        assert task in app.tasks, f"{name} sends {task!r}, which no worker registers"


def test_dispatch_owns_the_batching(broker: RecordingBroker) -> None:
    size = fresh_settings().pipeline_batch_size
    dispatch.enqueue_processing(list(range(size * 2 + 1)))
    assert [args[0] for _, args, _ in broker.sent] == [
        list(range(size)),
        list(range(size, 2 * size)),
        [2 * size],
    ]
    broker.sent.clear()
    dispatch.enqueue_deliveries(list(range(120)))
    assert [len(args[0]) for _, args, _ in broker.sent] == [50, 50, 20]
    broker.sent.clear()
    dispatch.enqueue_fetch([4, 5])
    assert broker.sent == [("fetcher.fetch", [4], None), ("fetcher.fetch", [5], None)]
    broker.sent.clear()
    dispatch.enqueue_delivery_retry(9, countdown=2.5)
    assert broker.sent == [("notifier.deliver", [9], 2.5)]


def test_a_broker_error_is_logged_with_the_ids_and_counted(
    broker: RecordingBroker, caplog: pytest.LogCaptureFixture
) -> None:
    broker.error = ConnectionError("broker down")
    with caplog.at_level(logging.ERROR, logger="services.dispatch"):
        assert dispatch.enqueue_processing([11, 12], batch_size=10) is False
        assert dispatch.enqueue_deliveries([21], batch_size=1) is False
        assert dispatch.enqueue_fetch([31, 32]) is False
    assert dispatch.enqueue_failures() == {
        "pipeline.process_batch": 1,
        "notifier.deliver": 1,
        "fetcher.fetch": 2,
    }
    counted = metrics.counter_values(metrics.exposition().decode())
    assert counted['newswatch_enqueue_failures_total{task="fetcher.fetch"}'] >= 2
    text = caplog.text
    assert "pipeline.process_batch" in text and "[11, 12]" in text and "broker down" in text
    assert "[21]" in text and "fetcher.fetch for ids 31" in text and "fetcher.fetch for ids 32" in text


def test_readyz_shows_the_failure_count(broker: RecordingBroker, monkeypatch: pytest.MonkeyPatch) -> None:
    broker.error = ConnectionError("down")
    dispatch.enqueue_fetch([1])

    class Session:
        def execute(self, _: object) -> None:  # the readiness probe's SELECT 1
            return None

    monkeypatch.setattr(health, "broker_ok", lambda settings: (True, "ok"))
    response = health.readyz(Session(), fresh_settings())  # type: ignore[arg-type]
    assert b'"enqueue_failures":{"fetcher.fetch":1}' in response.body
