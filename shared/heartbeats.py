"""Worker heartbeats in embedded mode: each worker process writes a small file under the data dir every
few seconds; `/readyz` reads them and answers 503 when one is missing or stale (a dead or stuck worker).

A file, not Redis: the embedded mode has no server, and every process shares the data dir.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

EMBEDDED_WORKERS = ("pipeline", "io")  # the worker children of `newswatch run`, by hostname prefix


def heartbeat_dir(data_dir: Path) -> Path:
    """Where the heartbeat files live."""
    return data_dir / "heartbeats"


def beat(data_dir: Path, name: str, pid: int) -> None:
    """Write one heartbeat (atomically: a reader never sees half a file)."""
    folder = heartbeat_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.{pid}.tmp"
    tmp.write_text(json.dumps({"pid": pid, "at": time.time()}))
    os.replace(tmp, folder / f"{name}.json")


def clear(data_dir: Path, name: str, pid: int) -> None:
    """Remove a worker's heartbeat when it stops cleanly (only its own)."""
    path = heartbeat_dir(data_dir) / f"{name}.json"
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()


@dataclass(frozen=True)
class WorkerState:
    """What /readyz reports for one worker."""

    ok: bool
    pid: int | None
    age_seconds: float | None

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "status": "ok" if self.ok else "down",
            "pid": self.pid,
            "age_seconds": None if self.age_seconds is None else round(self.age_seconds, 1),
        }


def states(data_dir: Path, names: tuple[str, ...], *, max_age: float) -> dict[str, WorkerState]:
    """Each named worker's heartbeat: ok when written less than `max_age` seconds ago."""
    out = {}
    now = time.time()
    for name in names:
        try:
            data = json.loads((heartbeat_dir(data_dir) / f"{name}.json").read_text())
            age = max(0.0, now - float(data["at"]))
            out[name] = WorkerState(age <= max_age, int(data["pid"]), age)
        except (OSError, ValueError, KeyError, TypeError):
            out[name] = WorkerState(False, None, None)
    return out


class Heartbeat:
    """A daemon thread beating for one worker process until stopped."""

    def __init__(self, data_dir: Path, name: str, *, every: float) -> None:
        self.data_dir = data_dir
        self.name = name
        self.every = every
        self.pid = os.getpid()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{name}", daemon=True)

    def start(self) -> Heartbeat:
        """Beat now and then every `every` seconds."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop beating and remove the file."""
        self._stop.set()
        self._thread.join(timeout=5)
        clear(self.data_dir, self.name, self.pid)

    def _run(self) -> None:
        while True:
            with contextlib.suppress(OSError):  # a full disk must not kill the worker
                beat(self.data_dir, self.name, self.pid)
            if self._stop.wait(self.every):
                return
