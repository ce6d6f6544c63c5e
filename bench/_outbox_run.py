"""The outbox part of bench.delivery: a fresh database, a real notifier worker, events at a fixed rate.

Imported by bench.delivery after it has set the environment (the settings and the Celery app read it once).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import _serve

REPO = Path(__file__).resolve().parent.parent


def prepare_env(db_name: str, redis_url: str) -> None:
    """Point this process (and the worker it starts) at the bench database and Redis."""
    os.environ.update(
        {
            "NEWSWATCH_MODE": "distributed",
            "NEWSWATCH_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{db_name}",
            "NEWSWATCH_REDIS_URL": redis_url,
            "NEWSWATCH_ALLOWED_NETWORKS": "127.0.0.0/8",
            "NEWSWATCH_SECRET_KEY": "bench-secret-key",
            "NEWSWATCH_DATA_DIR": tempfile.mkdtemp(prefix="newswatch-bench-"),
            "NEWSWATCH_DELIVERY_SWEEP_SECONDS": "5",
        }
    )


def create_database(db_name: str) -> str:
    """Create and migrate a fresh database; returns its URL."""
    from shared.config import get_settings
    from shared.migrations import upgrade

    _serve.create_database(db_name, migrate=False)
    get_settings.cache_clear()
    url = get_settings().effective_database_url
    upgrade(url)
    return url


def drop_database(db_name: str) -> None:
    """Drop the bench database."""
    from shared.db import engine_for

    engine_for(os.environ["NEWSWATCH_DATABASE_URL"]).dispose()
    _serve.drop_database(db_name)


class Worker:
    """A `newswatch worker -Q notifier` child process."""

    def __init__(self, *, pool: str, concurrency: int) -> None:
        self.log = Path(tempfile.mkstemp(prefix="newswatch-bench-worker-", suffix=".log")[1])
        args = [sys.executable, "-m", "services.cli", "worker", "-Q", "notifier", "--pool", pool]
        level = os.environ.get("NEWSWATCH_BENCH_LOGLEVEL", "warning")
        args += ["-c", str(concurrency), "--loglevel", level, "--hostname", f"bench-{os.getpid()}@%h"]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                args, cwd=REPO, env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT
            )

    def wait_ready(self, timeout: float = 90) -> None:
        """Block until the worker answers a ping."""
        from services.queue import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited:\n{self.log.read_text()[-3000:]}")
            if app.control.ping(timeout=0.5):
                return
        raise RuntimeError("worker not ready")

    def stop(self) -> None:
        """Warm shutdown, then kill."""
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def subscribe(url: str) -> None:
    """One webhook subscription for every event."""
    from shared.alerts import subscriptions
    from shared.config import get_settings
    from shared.db import session_scope

    with session_scope() as session:
        subscriptions.create_subscription(session=session, url=url, settings=get_settings())


_LAST_COMMIT = 0.0


def emit(n: int, start: int, batch: int = 1) -> list[int]:
    """n events in one transaction, then messages of `batch` ids after commit; returns the delivery ids."""
    from services.dispatch import enqueue_deliveries
    from shared.alerts import service
    from shared.db import session_scope

    now = time.time()
    with session_scope() as session:
        ids: list[int] = []
        for i in range(start, start + n):
            ids += service.enqueue_event(
                session=session,
                event_type="alert.created",
                event_key=f"bench:{i}",
                data={"alert_id": i, "created_ts": now, "latency": {"matched": None}},
            )
    global _LAST_COMMIT
    _LAST_COMMIT = time.time()
    enqueue_deliveries(ids, batch_size=batch)
    return ids


def throughput(receiver: Any, n: int, start: int = 0, batch: int = 1) -> dict[str, Any]:
    """Write n events at once and time until the receiver has every one (`batch` ids per task).

    The clock starts before the events are written: `per_second` covers writing the n events in one
    transaction (the outbox rows, as the pipeline writes them), enqueueing the messages and sending.
    `after_commit_per_second` starts at the commit instead (the sending side alone), labelled as such.
    """
    receiver.take()
    t0 = time.time()
    emit(n, start=start, batch=batch)
    t1 = _LAST_COMMIT
    got: set[str] = set()
    last = t1
    deadline = time.monotonic() + 300
    while len(got) < n and time.monotonic() < deadline:
        time.sleep(0.2)
        for wid, _created, recv in receiver.take():
            got.add(wid)
            last = max(last, recv)
    return {
        "n": n,
        "received": len(got),
        "write_seconds": round(t1 - t0, 3),  # the one transaction that writes the n events
        "seconds": round(last - t0, 3),  # from before the write to the last one received
        "per_second": round(len(got) / max(last - t0, 1e-9), 1),
        "after_commit_seconds": round(last - t1, 3),
        "after_commit_per_second": round(len(got) / max(last - t1, 1e-9), 1),
    }


def at_rate(receiver: Any, rate: float, seconds: float, start: int) -> list[float]:
    """Emit one event every 1/rate s for `seconds`; returns created→received latencies in ms."""
    receiver.take()
    n = int(rate * seconds)
    t0 = time.perf_counter()
    for i in range(n):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        emit(1, start=start + i)
    stamps: dict[str, float] = {}
    deadline = time.monotonic() + 60
    while len(stamps) < n and time.monotonic() < deadline:
        time.sleep(0.2)
        for wid, created, recv in receiver.take():
            stamps.setdefault(wid, (recv - created) * 1000)
    return list(stamps.values())
