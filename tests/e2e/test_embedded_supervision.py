"""`newswatch run` supervises its workers: each child killed with kill -9 during a burst of articles is
restarted, leaves nothing it started behind, and every article is processed and every alert delivered once
(retries keep their webhook-id; no event arrives under two ids)."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.processes import Proc, embedded, free_port, until
from tests.support.servers import LocalServer
from tests.support.webhooks import Receiver

pytestmark = pytest.mark.e2e

KEY = "nwk_supervision_test_key"
PER_ROUND = 8
DEADLINE = 240.0  # the whole test, from start to the last delivery


def _live_in_group(pgid: int) -> list[int]:
    """Processes of a process group that are not zombies (a zombie has already stopped)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(entry.name))
    return out


def _until(what: str, check: Callable[[], Any], proc: Proc, deadline: float) -> Any:
    return until(what, check, proc, timeout=max(1.0, deadline - time.monotonic()))


def test_each_child_killed_during_a_burst_is_restarted_and_nothing_is_lost(tmp_path: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    port = free_port()
    proc = embedded(
        tmp_path / "data",
        port,
        "--no-seed",
        key=KEY,
        NEWSWATCH_RETRY_SCHEDULE="0,1,1,1,1,1",
        NEWSWATCH_DELIVERY_SWEEP_SECONDS="1",
        NEWSWATCH_DELIVERY_LOCK_SECONDS="5",
        NEWSWATCH_PIPELINE_SWEEP_SECONDS="2",
        NEWSWATCH_PIPELINE_STUCK_AFTER_SECONDS="5",
        NEWSWATCH_WORKER_HEARTBEAT_SECONDS="1",
        NEWSWATCH_WORKER_HEARTBEAT_TIMEOUT_SECONDS="5",
    )
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {KEY}"}
    try:
        with LocalServer() as server, httpx.Client(base_url=base, headers=auth, timeout=30) as client:

            def workers() -> dict[str, dict[str, Any]] | None:
                r = client.get("/readyz")
                return r.json()["workers"] if r.status_code == 200 else None

            pids = {n: w["pid"] for n, w in _until("both workers ready", workers, proc, deadline).items()}
            receiver = Receiver()
            server.routes["/hook"] = receiver
            sub = client.post("/api/v1/subscriptions", json={"url": server.url("/hook")})
            assert sub.status_code == 201, sub.text
            receiver.secret = sub.json()["secret"]
            watch = client.post("/api/v1/watches", json={"name": "burst", "query": "supervisedburst"})
            assert watch.status_code == 201, watch.text

            ids: list[int] = []
            for round_no, victim in enumerate(["pipeline", "io"]):
                batch = [
                    {
                        "title": f"Supervisedburst report {round_no}-{i}",
                        # unrelated words: each article is a story of its own, so one alert each
                        "text": " ".join(uuid.uuid4().hex for _ in range(40)) + " supervisedburst",
                        "url": f"https://burst.example/{round_no}/{i}",
                    }
                    for i in range(PER_ROUND)
                ]
                for article in batch:  # one push each: several pipeline tasks in flight
                    r = client.post("/api/v1/articles", json=article)
                    assert r.status_code == 202, r.text
                    ids += r.json()["new_ids"]
                old = pids[victim]
                os.kill(old, signal.SIGKILL)  # the child alone, as a crash would: its own children remain

                def restarted(victim: str = victim, old: int = old) -> bool:
                    w = workers()
                    return bool(w) and w[victim]["pid"] != old  # type: ignore[index]

                _until(f"{victim} restarted and beating", restarted, proc, deadline)
                pids = {n: w["pid"] for n, w in (workers() or {}).items()}
                assert _live_in_group(old) == [], f"{victim}'s children outlived it"

            def processed() -> bool:
                states = [client.get(f"/api/v1/articles/{i}").json()["status"] for i in ids]
                return all(s == "processed" for s in states)

            _until("every article processed", processed, proc, deadline)
            alerts = client.get("/api/v1/alerts", params={"limit": 100}).json()["items"]
            assert sorted(a["article_id"] for a in alerts) == sorted(ids)

            def delivered() -> bool:
                got = {e["body"]["data"].get("alert_id") for e in list(receiver.verified)}
                return {a["id"] for a in alerts} <= got

            _until("every alert delivered", delivered, proc, deadline)
            assert receiver.rejected == []
            ids_per_event: dict[tuple[str, Any], set[str]] = defaultdict(set)
            for e in list(receiver.verified):
                body = e["body"]
                ids_per_event[(body["type"], body["data"].get("alert_id"))].add(e["id"])
            twice = {k: v for k, v in ids_per_event.items() if len(v) > 1}
            assert twice == {}, f"delivered under several webhook-ids: {twice}"
    finally:
        proc.stop(timeout=30)
