"""Every registered task runs under a soft and a hard time limit; bad limits stop start-up."""

from __future__ import annotations

import pydantic
import pytest

import services.fetcher.tasks
import services.notifier.tasks
import services.pipeline.tasks  # noqa: F401  (every task registered)
from services.queue import app, create_celery
from shared.config import Settings


def test_every_task_has_a_soft_and_a_hard_limit() -> None:
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert {n.split(".")[0] for n in ours} == {"fetcher", "pipeline", "notifier"}
    for name, task in ours.items():
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        hard = task.time_limit or app.conf.task_time_limit
        assert soft and hard and hard > soft, (name, soft, hard)


def test_limits_and_shutdown_come_from_settings() -> None:
    conf = create_celery(
        Settings(task_soft_time_limit_seconds=10, task_time_limit_seconds=12, worker_shutdown_grace_seconds=5)
    ).conf
    assert (conf.task_soft_time_limit, conf.task_time_limit) == (10, 12)
    assert conf.worker_soft_shutdown_timeout == 5
    assert conf.task_acks_late and conf.task_reject_on_worker_lost


def test_hard_limit_must_exceed_soft() -> None:
    with pytest.raises(pydantic.ValidationError):
        Settings(task_soft_time_limit_seconds=10, task_time_limit_seconds=10)


def test_the_workers_pool_size_reaches_the_pipeline_tasks() -> None:
    # a pipeline task shares the waiting articles among this many processes (shared.pipeline.service)
    from celery import signals

    from services.queue import pool_processes

    assert pool_processes() == 1  # outside a worker
    try:
        signals.worker_init.send(sender=_Worker(3))
        assert pool_processes() == 3
        signals.worker_init.send(sender=_Worker("auto"))  # not resolved yet: no share
        assert pool_processes() == 1
    finally:
        signals.worker_init.send(sender=_Worker(1))


class _Worker:
    """What the worker_init signal's sender (celery's WorkController) offers: its pool size."""

    def __init__(self, concurrency: int | str) -> None:
        self.concurrency = concurrency
