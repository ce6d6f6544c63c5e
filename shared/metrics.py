"""Prometheus metrics: what every process counts, and the text a scrape returns.

Counters and histograms only (no live gauges in processes): articles stored, processed and failed, matches,
alerts, deliveries by outcome, and per-stage latency. They count what a transaction committed: `on_commit`
holds an increment on the session until its commit succeeds (a rollback drops it).

Prefork workers are many processes, so in every role started by the `newswatch` command the metrics live in
Prometheus's multiprocess mode: each process writes its values to small memory-mapped files in one folder
(`PROMETHEUS_MULTIPROC_DIR`, set from NEWSWATCH_METRICS_DIR by `prepare`), named by host and pid so that
containers sharing a volume never collide, and a scrape adds up every file. Files of dead processes stay:
a counter keeps its total across a worker's restart. Without the folder (tests, a library user) the values
live in this process only.

Values read at scrape time (queue depths, feeds per state, backlog) come from `Snapshot`s the caller builds
(the API reads the database and the broker for them), so nothing here needs a connection.
"""

from __future__ import annotations

import os
import platform
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event
from sqlmodel import Session

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# seconds: a stage takes from a few milliseconds (matching) to hours (a feed's publication delay)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400)

STAGES = ("published_to_fetched", "fetched_to_processed", "matched_to_sent")
_PENDING = "newswatch_metrics_pending"


def prepare(folder: Path) -> Path:
    """Put this process (and every process it starts) in multiprocess mode, writing into `folder`.

    Called by each `newswatch` role before anything counts; an already set PROMETHEUS_MULTIPROC_DIR wins.
    """
    chosen = Path(os.environ.setdefault(MULTIPROC_ENV, str(folder.resolve())))
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen


def _identifier() -> str:
    # host and pid: processes of several containers may share the folder (a volume), each with its pid 7
    return f"{platform.node().replace('_', '-')}-{os.getpid()}"


@dataclass
class _Metrics:
    registry: CollectorRegistry
    value_class: Any
    articles: Counter
    matches: Counter
    alerts: Counter
    deliveries: Counter
    enqueue_failures: Counter
    stage: Histogram


@cache
def _build(folder: str | None) -> _Metrics:
    # the value class is read whenever a labelled child is made: files shared by the whole host, or memory
    value_class = values.MultiProcessValue(_identifier) if folder else values.MutexValue
    values.ValueClass = value_class
    reg = CollectorRegistry(auto_describe=True)
    return _Metrics(
        registry=reg,
        value_class=value_class,
        articles=Counter(
            "newswatch_articles",
            "Articles by outcome: fetched (stored new), processed, failed (gave up after every attempt)",
            ["outcome", "source"],
            registry=reg,
        ),
        matches=Counter("newswatch_matches", "Watch matches stored", ["kind"], registry=reg),
        alerts=Counter("newswatch_alerts", "Alerts raised", ["kind"], registry=reg),
        deliveries=Counter(
            "newswatch_deliveries",
            "Delivery attempts by outcome (sent, retry, failed, disabled, throttled, skipped)",
            ["outcome"],
            registry=reg,
        ),
        enqueue_failures=Counter(
            "newswatch_enqueue_failures",
            "Task messages the broker refused, by task (logged with their ids; the sweeps recover the work)",
            ["task"],
            registry=reg,
        ),
        stage=Histogram(
            "newswatch_stage_seconds",
            "Seconds an article or alert spent between two stages",
            ["stage"],
            buckets=BUCKETS,
            registry=reg,
        ),
    )


def _m() -> _Metrics:
    m = _build(os.environ.get(MULTIPROC_ENV) or None)
    values.ValueClass = m.value_class  # the folder may have changed since another build (tests)
    return m


def inc(name: str, amount: float = 1, **labels: str) -> None:
    """Add to a counter now (what is already committed, or not database work)."""
    if amount:
        getattr(_m(), name).labels(**labels).inc(amount)


def observe(stage: str, seconds: float) -> None:
    """One value of a stage's latency (negative values, from clock skew, count as zero)."""
    _m().stage.labels(stage=stage).observe(max(0.0, seconds))


def on_commit(session: Session, fn: Callable[[], None]) -> None:
    """Run `fn` (an increment) once the session's transaction commits; a rollback drops it."""
    pending: list[Callable[[], None]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _flush)
        event.listen(session, "after_rollback", _drop)
    pending.append(fn)


def _flush(session: Session) -> None:
    for fn in session.info.pop(_PENDING, None) or ():
        fn()
    session.info[_PENDING] = []


def _drop(session: Session) -> None:
    session.info[_PENDING] = []


def count(session: Session, name: str, amount: float = 1, **labels: str) -> None:
    """Add to a counter when the session commits."""
    if amount:
        on_commit(session, lambda: inc(name, amount, **labels))


def observe_on_commit(session: Session, stage: str, seconds: Iterable[float]) -> None:
    """Stage latencies recorded when the session commits."""
    got = list(seconds)
    if got:

        def record() -> None:
            for s in got:
                observe(stage, s)

        on_commit(session, record)


@dataclass
class Snapshot:
    """Values read at scrape time: name → (help, label names, [(label values, value)])."""

    gauges: dict[str, tuple[str, list[str], list[tuple[list[str], float]]]] = field(default_factory=dict)

    def gauge(
        self, name: str, help_text: str, labels: list[str], rows: Iterable[tuple[list[str], float]]
    ) -> None:
        """Add one gauge family."""
        self.gauges[name] = (help_text, labels, list(rows))


class _SnapshotCollector:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterable[Any]:
        for name, (help_text, labels, rows) in self.snapshot.gauges.items():
            fam = GaugeMetricFamily(name, help_text, labels=labels)
            for label_values, value in rows:
                fam.add_metric(label_values, value)
            yield fam


_scrape_lock = threading.Lock()


def exposition(snapshot: Snapshot | None = None) -> bytes:
    """The Prometheus text of every process's counters (the folder's files, or this process's) and the
    snapshot's gauges."""
    folder = os.environ.get(MULTIPROC_ENV)
    reg = CollectorRegistry()
    if folder and Path(folder).is_dir():
        MultiProcessCollector(reg, path=folder)
    else:
        reg.register(_Forward(_m().registry))
    if snapshot is not None:
        reg.register(_SnapshotCollector(snapshot))
    with _scrape_lock:
        return generate_latest(reg)


def serve(port: int, host: str = "0.0.0.0") -> None:
    """Serve this host's counters (no database gauges) on `port` in a background thread (a worker on a
    machine without an API)."""
    folder = os.environ.get(MULTIPROC_ENV)
    reg = CollectorRegistry()
    if folder:
        MultiProcessCollector(reg, path=folder)
    else:
        reg.register(_Forward(_m().registry))
    start_http_server(port, addr=host, registry=reg)


class _Forward:
    def __init__(self, inner: CollectorRegistry) -> None:
        self.inner = inner

    def collect(self) -> Iterable[Any]:
        return self.inner.collect()


def counter_values(text: str) -> Mapping[str, float]:
    """Parse an exposition into {"name{labels}": value} (tests and the compose check read it)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out
