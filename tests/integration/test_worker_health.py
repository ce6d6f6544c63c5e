"""`newswatch healthcheck` (a worker's compose health check): 0 while the worker beats, 1 once it stops."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
import redis

from tests.support import processes

pytestmark = pytest.mark.integration


def _check(env: dict[str, str]) -> int:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "healthcheck"],
        cwd=processes.REPO,
        env=env,
        capture_output=True,
        timeout=60,
    ).returncode


def test_healthcheck_follows_the_worker(clean_db: str, redis_client: redis.Redis) -> None:
    worker = processes.Proc(
        [
            "worker",
            "-Q",
            "notifier",
            "-c",
            "1",
            "--hostname",
            f"hc{processes.free_port()}@{socket.gethostname()}",
        ],
        name="hc-worker",
    ).start()
    try:
        worker.wait_for_log(" ready.", timeout=90)
        assert processes.until("healthy", lambda: _check(worker.env) == 0, worker, timeout=60)
    finally:
        worker.stop()
    assert _check(worker.env) == 1  # a stopped worker removes its heartbeat
