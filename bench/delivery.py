"""Webhook delivery benchmark: deliveries/s to a local receiver and created→received latency at fixed rates.

The receiver runs in its own process (uvicorn, a bare ASGI app) and stamps every request on arrival; the
latency of one delivery is that stamp minus the moment its event was created (both `time.time()` on the same
machine). Three layers, measured in the same run:
- baseline: a bare httpx POST of a comparable body from a thread pool (no signing, no checks, no database);
- channel: our WebhookChannel alone (signing, address policy, pinned transport);
- outbox: the real path: the event written to PostgreSQL, a Celery message, a notifier worker process that
  claims the row, sends under the endpoint limits, logs the attempt (a fresh database, Redis db 12). Its
  throughput clock starts before the events are written (`after_commit_per_second` beside it, labelled).

    .venv/bin/python -m bench.delivery --json
    newswatch bench delivery --json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench._serve import ReceiverProcess
from shared.alerts.channels import Message, WebhookChannel
from shared.alerts.signing import generate_secret
from shared.outbound.policy import AddressPolicy, parse_networks


def _receiver_main(port: int) -> None:
    import uvicorn

    stamps: list[tuple[str, float, float]] = []  # (webhook-id, created, received)

    async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        now = time.time()
        if scope["method"] == "GET":  # /stats?reset
            out = json.dumps(stamps).encode()
            if scope.get("query_string") == b"reset":
                stamps.clear()
            start = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"json")]}
            await send(start)
            await send({"type": "http.response.body", "body": out})
            return
        headers = dict(scope["headers"])
        created = 0.0
        with contextlib.suppress(ValueError, KeyError, AttributeError):
            created = float(json.loads(body)["data"].get("created_ts", 0.0))
        stamps.append((headers.get(b"webhook-id", b"").decode(), created, now))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


class Receiver(ReceiverProcess):
    """The receiver process and its stats endpoint."""

    def __init__(self) -> None:
        super().__init__(_receiver_main)

    def take(self) -> list[tuple[str, float, float]]:
        """Every stamp since the last take."""
        r = httpx.get(f"http://127.0.0.1:{self.port}/stats?reset", timeout=30)
        return [tuple(x) for x in r.json()]  # type: ignore[misc]


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)


def _data(i: int) -> dict[str, Any]:
    return {"alert_id": i, "created_ts": time.time(), "watch": {"id": 1, "name": "SCO"}, "latency": {}}


def throughput(send: Callable[[int], bool], n: int, workers: int) -> dict[str, Any]:
    """Send n deliveries through `send` with `workers` threads; deliveries per second."""
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        ok = sum(pool.map(send, range(n)))
    elapsed = time.perf_counter() - started
    return {"n": n, "ok": ok, "seconds": round(elapsed, 3), "per_second": round(ok / elapsed, 1)}


def latency_at_rate(
    send: Callable[[int], bool], receiver: Receiver, rate: float, seconds: float, workers: int
) -> dict[str, Any]:
    """Create alerts at `rate`/s for `seconds` and measure created→received at the receiver (ms)."""
    receiver.take()
    n = int(rate * seconds)
    pool = ThreadPoolExecutor(workers)
    t0 = time.perf_counter()
    for i in range(n):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        pool.submit(send, i)
    pool.shutdown(wait=True)
    stamps = receiver.take()
    lat = [(recv - created) * 1000 for _, created, recv in stamps if created]
    return {
        "rate": rate,
        "sent": n,
        "received": len(stamps),
        "p50_ms": _pct(lat, 0.5),
        "p95_ms": _pct(lat, 0.95),
        "max_ms": round(max(lat), 2) if lat else None,
        "mean_ms": round(statistics.fmean(lat), 2) if lat else None,
    }


def channel_sender(url: str) -> Callable[[int], bool]:
    """Our WebhookChannel: signed, address-checked and pinned, one shared connection pool."""
    policy = AddressPolicy(allowed_networks=tuple(parse_networks("127.0.0.0/8")))
    channel = WebhookChannel(policy=policy, timeout=15)
    secrets = (generate_secret(),)

    def send(i: int) -> bool:
        msg = Message(
            target=url, msg_id=f"msg_{i}", event_type="alert.created", data=_data(i), secrets=secrets
        )
        return channel.send(msg).ok

    return send


def baseline_sender(url: str) -> Callable[[int], bool]:
    """A bare httpx POST of a comparable body, unsigned and unchecked."""
    client = httpx.Client(timeout=15, limits=httpx.Limits(max_connections=100, max_keepalive_connections=100))

    def send(i: int) -> bool:
        body = json.dumps({"type": "alert.created", "timestamp": time.time(), "data": _data(i)})
        return client.post(url, content=body, headers={"webhook-id": f"b_{i}"}).is_success

    return send


def _outbox(rx: Receiver, args: argparse.Namespace, rates: list[float]) -> dict[str, Any]:
    from bench import _outbox_run as ob

    db_name = f"newswatch_bench_{os.getpid()}"
    ob.prepare_env(db_name, args.redis_url)
    ob.create_database(db_name)
    worker = ob.Worker(pool=args.pool, concurrency=args.concurrency)
    try:
        worker.wait_ready()
        ob.subscribe(rx.url)
        ob.throughput(rx, 50, start=-1000)  # warm-up: connections, compiled statements
        out: dict[str, Any] = {
            "worker": {"pool": args.pool, "concurrency": args.concurrency},
            "throughput": ob.throughput(rx, args.n, start=0),
            "throughput_batched": {
                "ids_per_task": args.batch,
                **ob.throughput(rx, args.n, start=10_000_000, batch=args.batch),
            },
            "latency": [],
        }
        start = 1_000_000
        for r in rates:
            lat = ob.at_rate(rx, r, args.seconds, start)
            start += 1_000_000
            out["latency"].append(
                {
                    "rate": r,
                    "sent": int(r * args.seconds),
                    "received": len(lat),
                    "p50_ms": _pct(lat, 0.5),
                    "p95_ms": _pct(lat, 0.95),
                    "max_ms": round(max(lat), 2) if lat else None,
                }
            )
        return out
    finally:
        worker.stop()
        ob.drop_database(db_name)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the results."""
    ap = argparse.ArgumentParser(prog="newswatch bench delivery", description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    ap.add_argument("-n", type=int, default=2000, help="deliveries for the throughput runs")
    ap.add_argument("--workers", type=int, default=16, help="sender threads (baseline and channel layers)")
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of each fixed-rate run")
    ap.add_argument("--rates", default="10,100", help="events per second for the latency runs")
    ap.add_argument("--layers", default="baseline,channel,outbox", help="which layers to measure")
    ap.add_argument("--pool", default="prefork", choices=["prefork", "threads"], help="outbox worker pool")
    ap.add_argument("--concurrency", type=int, default=4, help="outbox worker concurrency")
    ap.add_argument("--batch", type=int, default=50, help="ids per task in the batched throughput run")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="broker for the outbox run")
    args = ap.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",") if r]
    layers = {x.strip() for x in args.layers.split(",") if x.strip()}
    result: dict[str, Any] = {
        "benchmark": "delivery",
        "cpus": mp.cpu_count(),
        "goals": {"per_second": 300, "p95_ms_at_10_per_s": 250},
    }
    with Receiver() as rx:
        ours, base = channel_sender(rx.url), baseline_sender(rx.url)
        for s in (ours, base):  # warm the connection pools
            throughput(s, 50, args.workers)
        rx.take()
        if "baseline" in layers:
            result["baseline_bare_httpx"] = {
                "throughput": throughput(base, args.n, args.workers),
                "latency": [latency_at_rate(base, rx, r, args.seconds, args.workers) for r in rates],
            }
        if "channel" in layers:
            result["channel"] = {
                "throughput": throughput(ours, args.n, args.workers),
                "latency": [latency_at_rate(ours, rx, r, args.seconds, args.workers) for r in rates],
            }
        if "outbox" in layers:
            result["outbox"] = _outbox(rx, args, rates)
            ob = result["outbox"]
            at10 = [x["p95_ms"] for x in ob["latency"] if x["rate"] == 10.0]
            # The producers (pipeline, sweep) send batches of ids per task, so the batched figure is the
            # outbox's throughput; one task per id is bounded by Celery's per-message cost and shown too.
            # Both clocks start before the events are written (the write is part of the outbox).
            result["summary"] = {
                "outbox_per_second": ob["throughput_batched"]["per_second"],
                "outbox_one_task_per_delivery_per_second": ob["throughput"]["per_second"],
                "outbox_after_commit_per_second": ob["throughput_batched"]["after_commit_per_second"],
                "p95_ms_at_10_per_s": at10[0] if at10 else None,
                "per_second_goal_met": ob["throughput_batched"]["per_second"] >= 300,
                "p95_goal_met": bool(at10) and at10[0] is not None and at10[0] <= 250,
            }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for layer in ("baseline_bare_httpx", "channel", "outbox"):
            if layer in result:
                t = result[layer]["throughput"]
                lat = ", ".join(
                    f"{x['rate']:g}/s p50 {x['p50_ms']} p95 {x['p95_ms']} ms"
                    for x in result[layer]["latency"]
                )
                print(f"{layer}: {t['per_second']}/s; {lat}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
