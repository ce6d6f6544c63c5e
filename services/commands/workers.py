"""`newswatch worker` and `newswatch beat`: the Celery worker and scheduler."""

from __future__ import annotations

import argparse

from services.queue import app
from shared import metrics
from shared.config import fresh_settings


def cmd_worker(args: argparse.Namespace) -> int:
    """A Celery worker (optionally with the scheduler inside); its pool processes count into the host's
    metrics folder, which the worker serves itself when NEWSWATCH_METRICS_PORT is set."""
    settings = fresh_settings()
    metrics.prepare(settings.effective_metrics_dir)
    if settings.metrics_port:
        metrics.serve(settings.metrics_port)
    argv = ["worker", "--loglevel", args.loglevel, "-Q", args.queues, "--pool", args.pool]
    if args.concurrency:
        argv += ["--concurrency", str(args.concurrency)]
    if args.beat:
        argv += ["--beat", "--schedule", str(fresh_settings().data_dir / "celerybeat-schedule")]
    if args.hostname:
        argv += ["--hostname", args.hostname]
    app.worker_main(argv)
    return 0


def cmd_beat(args: argparse.Namespace) -> int:
    """The scheduler on its own."""
    settings = fresh_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    metrics.prepare(settings.effective_metrics_dir)
    app.start(
        ["beat", "--loglevel", args.loglevel, "--schedule", str(settings.data_dir / "celerybeat-schedule")]
    )
    return 0
