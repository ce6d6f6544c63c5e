"""Many open alert streams against one API process: does /healthz stay fast?

`newswatch bench streams --json [--streams 1000] [--probes 300]` starts the API (`newswatch api`, embedded
mode: SQLite in a temporary folder, no Redis) on 127.0.0.1, measures /healthz latency with no stream open
(the baseline of this run), opens the streams (each a real SSE connection that got its first line), then
measures /healthz again while they stay open, and prints the figures. Goal: p95 under 100 ms with 1,000
streams. Loopback only, bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx

from bench._serve import free_port, stop

KEY = "nwk_bench_streams_admin"
GOAL_P95_MS = 100.0


def _raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _start_api(port: int, data_dir: str, streams: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NEWSWATCH_MODE": "embedded",
        "NEWSWATCH_DATA_DIR": data_dir,
        "NEWSWATCH_DATABASE_URL": "",
        "NEWSWATCH_ADMIN_API_KEY": KEY,
        "NEWSWATCH_STREAM_MAX_PER_KEY": str(streams + 10),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "api", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_raise_fd_limit,
    )


async def _wait_ready(client: httpx.AsyncClient, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the API exited during start-up")
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError("the API did not answer /healthz")


async def _probe(client: httpx.AsyncClient, n: int) -> dict[str, float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = await client.get("/healthz")
        times.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"/healthz answered {r.status_code}")
        await asyncio.sleep(0.01)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
        "p99_ms": round(times[int(0.99 * (len(times) - 1))], 2),
        "max_ms": round(times[-1], 2),
    }


async def _open_stream(client: httpx.AsyncClient) -> httpx.Response:
    req = client.build_request("GET", "/api/v1/alerts/stream", headers={"authorization": f"Bearer {KEY}"})
    r = await client.send(req, stream=True)
    if r.status_code != 200:
        await r.aclose()
        raise RuntimeError(f"stream answered {r.status_code}")
    await r.aiter_lines().__anext__()  # "retry: 2000": the stream is up on the server
    return r


async def run(streams: int, probes: int, timeout: float) -> dict[str, Any]:
    """Start the API, measure /healthz without and with `streams` open streams."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="newswatch-bench-streams-") as data_dir:
        proc = _start_api(port, data_dir, streams)
        limits = httpx.Limits(max_connections=streams + 20, max_keepalive_connections=streams + 20)
        try:
            async with (
                httpx.AsyncClient(base_url=base, timeout=timeout) as probe,
                httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits) as pool,
            ):
                await _wait_ready(probe, proc, timeout)
                await _probe(probe, 20)  # warm up
                baseline = await _probe(probe, probes)
                t0 = time.perf_counter()
                opened: list[httpx.Response] = []
                for start in range(0, streams, 100):  # open in waves of 100
                    wave = min(100, streams - start)
                    opened += await asyncio.gather(*(_open_stream(pool) for _ in range(wave)))
                open_seconds = time.perf_counter() - t0
                loaded = await _probe(probe, probes)
                await asyncio.gather(*(r.aclose() for r in opened))
        finally:
            stop(proc)
    return {
        "benchmark": "streams",
        "streams": streams,
        "probes": probes,
        "open_seconds": round(open_seconds, 2),
        "healthz_baseline": baseline,
        "healthz_with_streams": loaded,
        "goal_p95_ms": GOAL_P95_MS,
        "goal_met": loaded["p95_ms"] < GOAL_P95_MS,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the results."""
    ap = argparse.ArgumentParser(prog="newswatch bench streams", description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    ap.add_argument("--streams", type=int, default=1000, help="concurrent SSE streams to hold open")
    ap.add_argument("--probes", type=int, default=300, help="/healthz requests per measurement")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds any one step may take")
    args = ap.parse_args(argv)
    _raise_fd_limit()
    result = asyncio.run(run(max(1, min(args.streams, 5000)), max(10, args.probes), args.timeout))
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
