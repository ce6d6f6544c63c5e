"""Large pushes in embedded mode (SQLite): do API writes keep answering while big articles are processed?

`newswatch bench sqlite_push --json [--articles 25] [--mb 2]` starts `newswatch run` (SQLite, no servers)
in a temporary folder, measures `POST /api/v1/watches` and `POST /api/v1/subscriptions` latency with
nothing else going on (the baseline of this run), then pushes the articles (one request each) while a
second client keeps creating watches and subscriptions, until every article is processed. Prints the
latencies (p50/p95/max), every non-2xx status seen, and the pipeline's time. Goal: writes answer within a
second, never a 500. Loopback only, bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import httpx

from bench._serve import free_port, stop

KEY = "nwk_bench_sqlite_push_admin"
_TEXT = (
    "summit leaders ministers cooperation security trade region council statement agreement energy "
    "transport corridor talks delegation member states observers partners economy forum meeting"
)
WORDS = _TEXT.split()


def _text(chars: int, seed: int) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    size = 0
    while size < chars:
        sentence = " ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + ". "
        out.append(sentence)
        size += len(sentence)
    return "".join(out)[:chars]


def _ready(client: httpx.Client) -> bool:
    try:
        return client.get("/readyz").status_code == 200
    except httpx.TransportError:
        return False


def _stats(times: list[float]) -> dict[str, float]:
    if not times:
        return {}
    s = sorted(times)
    return {
        "n": len(s),
        "p50_ms": round(statistics.median(s), 1),
        "p95_ms": round(s[int(0.95 * (len(s) - 1))], 1),
        "max_ms": round(s[-1], 1),
    }


class Writer(threading.Thread):
    """Creates a watch and a subscription in turn, recording latency and status, until stopped."""

    def __init__(self, base: str, prefix: str) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=base, headers={"authorization": f"Bearer {KEY}"}, timeout=60)
        self.prefix = prefix
        self.stop = threading.Event()
        self.times: list[float] = []
        self.statuses: dict[str, int] = {}

    def one(self, i: int) -> None:
        if i % 2:
            path, body = "/api/v1/watches", {"name": f"{self.prefix}-{i}", "query": f"word{i} AND summit"}
        else:
            path, body = "/api/v1/subscriptions", {"url": f"http://127.0.0.1:9/{self.prefix}/{i}"}
        t0 = time.perf_counter()
        try:
            status = str(self.client.post(path, json=body).status_code)
        except httpx.TimeoutException:
            status = "timeout"
        self.times.append((time.perf_counter() - t0) * 1000)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            self.one(i)
            i += 1
            self.stop.wait(0.2)
        self.client.close()


def run(articles: int, mb: float, timeout: float) -> dict[str, Any]:
    """Start the embedded service, measure writes alone, then during a push of big articles."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="newswatch-bench-sqlite-") as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
        env.update({"NEWSWATCH_ADMIN_API_KEY": KEY, "NEWSWATCH_ALLOWED_NETWORKS": "127.0.0.0/8"})
        cmd = [sys.executable, "-m", "services.cli", "run", "--port", str(port), "--data-dir", data_dir]
        proc = subprocess.Popen(
            [*cmd, "--no-seed"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = httpx.Client(base_url=base, headers={"authorization": f"Bearer {KEY}"}, timeout=120)
        try:
            deadline = time.monotonic() + timeout
            while not _ready(client):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the embedded service did not get ready")
                time.sleep(0.5)
            baseline = Writer(base, "base")
            for i in range(20):
                baseline.one(i)
            writer = Writer(base, "push")
            writer.start()
            chars = int(mb * 1_000_000)
            ids: list[int] = []
            t0 = time.perf_counter()
            for n in range(articles):
                art = {"title": f"Big report {n}", "text": _text(chars, n), "url": f"https://big.example/{n}"}
                r = client.post("/api/v1/articles", json=art)
                if r.status_code != 202:
                    raise RuntimeError(f"push answered {r.status_code}: {r.text[:200]}")
                ids += r.json()["new_ids"]
            push_seconds = time.perf_counter() - t0
            pending = set(ids)
            while pending and time.monotonic() < deadline:
                pending = {
                    i for i in pending if client.get(f"/api/v1/articles/{i}").json()["status"] == "fetched"
                }
                time.sleep(1)
            processed_seconds = time.perf_counter() - t0
            writer.stop.set()
            writer.join(70)
        finally:
            client.close()
            stop(proc)
    return {
        "benchmark": "sqlite_push",
        "articles": articles,
        "mb_each": mb,
        "push_seconds": round(push_seconds, 1),
        "all_processed": not pending,
        "processed_seconds": round(processed_seconds, 1),
        "writes_baseline": _stats(baseline.times),
        "writes_during_push": _stats(writer.times),
        "statuses_during_push": writer.statuses,
        "goal": "writes answer within 1000 ms during the push, never 500",
        "goal_met": bool(writer.times) and max(writer.times) < 1000 and set(writer.statuses) <= {"201"},
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the results."""
    ap = argparse.ArgumentParser(prog="newswatch bench sqlite_push", description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    ap.add_argument("--articles", type=int, default=25, help="big articles to push")
    ap.add_argument("--mb", type=float, default=2.0, help="megabytes of text each (at most 2)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds the whole run may take")
    args = ap.parse_args(argv)
    result = run(max(1, min(args.articles, 200)), max(0.01, min(args.mb, 2.0)), args.timeout)
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
