"""Newswatch roles as real child processes (worker, beat, embedded run), with logs and bounded waits."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


class Proc:
    """One `python -m services.cli ...` child; output goes to a log file that readiness checks read."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, name: str = "proc") -> None:
        self.args = args
        self.env = {**os.environ, **(env or {})}
        self.name = name
        fd, path = tempfile.mkstemp(prefix=f"newswatch-{name}-", suffix=".log")
        os.close(fd)
        self.log_path = Path(path)
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "services.cli", *self.args],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, needle: str, timeout: float = 60.0) -> None:
        """Wait until the log contains `needle`; fail with the log when the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log():
                return
            if self.popen is not None and self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.popen.returncode}):\n{self.log()[-4000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"{self.name}: {needle!r} not seen in {timeout}s:\n{self.log()[-4000:]}")

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill9(self) -> None:
        """SIGKILL the whole process group (a worker and its pool children), like a crashed host."""
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL after the timeout."""
        if self.popen is None or self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=timeout)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            self.kill9()


def worker(
    queues: str = "fetcher,pipeline,notifier",
    *,
    beat: bool = False,
    name: str = "worker",
    wait: bool = True,
    **env: str,
) -> Proc:
    """A started Celery worker (prefork, 2 processes), ready to take tasks (`wait=False`: only started; wait
    for its " ready." line later, so several start side by side)."""
    args = ["worker", "-Q", queues, "-c", "2", "--hostname", f"{name}-{os.getpid()}-{time.time_ns()}@%h"]
    if beat:
        args.append("--beat")
    proc = Proc(args, env=env, name=name).start()
    if wait:
        proc.wait_for_log(" ready.", timeout=90)
    return proc


def beat(**env: str) -> Proc:
    proc = Proc(["beat"], env=env, name="beat").start()
    proc.wait_for_log("beat: Starting", timeout=60)
    return proc


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def embedded(data_dir: Path, port: int, *args: str, key: str, **env: str) -> Proc:
    """A started `newswatch run` (embedded mode) with only the settings given, answering on `port`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
    clean.update({"NEWSWATCH_ADMIN_API_KEY": key, "NEWSWATCH_ALLOWED_NETWORKS": "127.0.0.0/8", **env})
    proc = Proc(["run", "--port", str(port), "--data-dir", str(data_dir), *args], name="embedded")
    proc.env = clean
    proc.start()
    proc.wait_for_log("Uvicorn running", timeout=120)
    return proc


def until(what: str, check: Callable[[], Any], proc: Proc, *, timeout: float = 90.0) -> Any:
    """Poll `check` until it returns something true (returned), or fail with the process's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.3)
    raise AssertionError(f"{what}: not seen in {timeout:.0f}s; {proc.name} log:\n{proc.log()[-4000:]}")
