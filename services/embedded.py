"""`newswatch run`: the whole service in one command, no servers: SQLite, the filesystem broker, a worker
for processing, a worker for fetching and delivering with the scheduler inside it, and the API.

The workers are child processes running the same task code as the distributed mode; Ctrl-C (or SIGTERM)
stops the API, then the children, cleanly.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

import uvicorn

from services.commands.bootstrap import bootstrap
from services.queue import chunks, send
from shared.config import fresh_settings


def _spawn(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "services.cli", *args], env=os.environ.copy())


def _stop(children: list[subprocess.Popen[bytes]], timeout: float = 20.0) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def run_embedded(*, host: str, port: int, seed: bool, with_feeds: bool) -> int:
    """Start everything and block until interrupted."""
    os.environ["NEWSWATCH_MODE"] = "embedded"  # the command line set it before importing this module too
    new_ids = bootstrap(with_feeds=with_feeds, seed=seed)
    settings = fresh_settings()
    children = [
        _spawn(["worker", "-Q", "pipeline", "--pool", "solo", "--hostname", "pipeline@%h"]),
        _spawn(
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
            ]
        ),
    ]
    for batch in chunks(new_ids, settings.pipeline_batch_size):
        send("pipeline.process_batch", [batch])
    print(
        f"Newswatch (embedded) at http://{host}:{port}  (data in {settings.data_dir.resolve()})",
        file=sys.stderr,
    )
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        uvicorn.run("services.api.app:app", host=host, port=port, log_level="info")
    except KeyboardInterrupt:
        pass
    finally:
        _stop(children)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """`newswatch run`."""
    return run_embedded(host=args.host, port=args.port, seed=not args.no_seed, with_feeds=not args.no_feeds)
