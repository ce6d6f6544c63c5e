"""What the benchmarks share: a free loopback port, a clean stop, and a throw-away PostgreSQL database.

Every benchmark that starts a server or needs its own database uses these (streams, sqlite_push, fetch,
delivery, dashboard, pipeline); psycopg is imported only by the functions that need a server.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import socket
import subprocess
import time
from collections.abc import Callable
from typing import Self

import httpx

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds; always reaped."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class ReceiverProcess:
    """A webhook receiver `target(port)` in a spawned process, ready once its `/stats` answers; subclasses
    add the calls to read what it recorded."""

    def __init__(self, target: Callable[[int], None]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.proc = mp.get_context("spawn").Process(target=target, args=(self.port,), daemon=True)

    def __enter__(self) -> Self:
        self.proc.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"http://127.0.0.1:{self.port}/stats", timeout=1)
                return self
            time.sleep(0.1)
        raise RuntimeError("receiver did not start")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.join(5)


def database_url(name: str) -> str:
    """The SQLAlchemy URL of a bench database on the local PostgreSQL."""
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def create_database(name: str, *, migrate: bool = True) -> str:
    """A fresh database `name` (dropped first if it exists), migrated to head unless told not; its URL."""
    import psycopg

    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    if migrate:
        from shared.migrations import upgrade

        upgrade(url)
    return url


def drop_database(name: str) -> None:
    """Drop a bench database (connections still open are ended)."""
    import psycopg

    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
