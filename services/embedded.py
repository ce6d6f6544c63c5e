"""`newswatch run`: the whole service in one command, no servers: SQLite, the filesystem broker, a worker
for processing, a worker for fetching and delivering with the scheduler inside it, and the API.

The workers are child processes running the same task code as the distributed mode, supervised:
- each child leads its own process group, so what it starts (pool processes, the scheduler) stays in it;
  when a child dies its whole group is killed, so nothing it started is left orphaned;
- a dead child is started again within seconds, with a backoff (1 s doubling to 30 s) that resets once
  it has stayed up a minute; work it held is redelivered (acks_late) or found by the sweeps;
- each worker writes a heartbeat that /readyz reads (503 while one is down);
- a child learns of the supervisor's death (PR_SET_PDEATHSIG on Linux) and stops too.
Ctrl-C (or SIGTERM) stops the API, then the children, cleanly.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import uvicorn

from services.commands.bootstrap import bootstrap, uvicorn_logging
from services.dispatch import enqueue_processing
from shared import metrics
from shared.config import fresh_settings

log = logging.getLogger("newswatch.supervisor")

BACKOFF_START = 1.0
BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0  # a child up this long has its backoff reset
POLL_SECONDS = 0.5


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):  # Linux only: elsewhere the child outlives a killed supervisor
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    """One supervised worker: its command line, its process, and its restart state."""

    name: str
    args: list[str]
    popen: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    backoff: float = BACKOFF_START
    restart_at: float | None = None
    restarts: int = 0
    history: list[int] = field(default_factory=list)  # pids, oldest first

    def start(self) -> None:
        """Start the child as the leader of a new process group."""
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "services.cli", *self.args],
            env=os.environ.copy(),
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self.started_at = time.monotonic()
        self.restart_at = None
        self.history.append(self.popen.pid)

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        """Signal the child's whole process group (it and whatever it started)."""
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, sig)


class Supervisor:
    """Keeps the worker children running until stopped."""

    def __init__(self, children: list[Child]) -> None:
        self.children = children
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)

    def start(self) -> None:
        """Start every child and the watching thread."""
        for child in self.children:
            child.start()
        self._thread.start()

    def check(self, now: float) -> None:
        """One round: reap a dead child's group and schedule its restart; restart what is due."""
        for child in self.children:
            popen = child.popen
            if popen is not None and child.restart_at is None and popen.poll() is not None:
                child.kill_group()  # its pool processes and scheduler must not outlive it
                if now - child.started_at >= STABLE_AFTER:
                    child.backoff = BACKOFF_START
                child.restart_at = now + child.backoff
                log.warning(
                    "worker %s (pid %d) exited with %s: restarting in %.0f s",
                    child.name, popen.pid, popen.returncode, child.backoff,
                )  # fmt: skip
                print(
                    f"newswatch: worker {child.name} (pid {popen.pid}) died ({popen.returncode}); "
                    f"restarting in {child.backoff:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
                child.backoff = min(child.backoff * 2, BACKOFF_MAX)
            if child.restart_at is not None and now >= child.restart_at and not self._stop.is_set():
                child.restarts += 1
                child.start()

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.check(time.monotonic())

    def stop(self, timeout: float = 20.0) -> None:
        """Stop restarting, then stop every child's group (SIGTERM, SIGKILL after the timeout)."""
        self._stop.set()
        self._thread.join(timeout=5)
        for child in self.children:
            if child.popen is not None and child.popen.poll() is None:
                child.kill_group(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self.children:
            if child.popen is None:
                continue
            try:
                child.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.popen.kill()
                child.popen.wait()
            child.kill_group()  # nothing it started may outlive it


def embedded_children() -> list[Child]:
    """The two workers of the embedded mode (names match shared.heartbeats.EMBEDDED_WORKERS)."""
    return [
        Child("pipeline", ["worker", "-Q", "pipeline", "--pool", "solo", "--hostname", "pipeline@%h"]),
        Child(
            "io",
            [
                "worker",
                "-Q",
                "fetcher,notifier",
                "--pool",
                "threads",
                "-c",
                "8",
                "--beat",
                "--hostname",
                "io@%h",
            ],
        ),
    ]


def run_embedded(*, host: str, port: int, seed: bool, with_feeds: bool) -> int:
    """Start everything and block until interrupted."""
    os.environ["NEWSWATCH_MODE"] = "embedded"  # the command line set it before importing this module too
    metrics.prepare(fresh_settings().effective_metrics_dir)  # the API and both workers count into one folder
    new_ids = bootstrap(with_feeds=with_feeds, seed=seed)
    settings = fresh_settings()
    supervisor = Supervisor(embedded_children())
    supervisor.start()
    enqueue_processing(new_ids, settings=settings)
    print(
        f"Newswatch (embedded) at http://{host}:{port}  (data in {settings.data_dir.resolve()})",
        file=sys.stderr,
    )
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        uvicorn.run("services.api.app:app", host=host, port=port, **uvicorn_logging(settings))
    except KeyboardInterrupt:
        pass
    finally:
        supervisor.stop()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """`newswatch run`."""
    return run_embedded(host=args.host, port=args.port, seed=not args.no_seed, with_feeds=not args.no_feeds)
