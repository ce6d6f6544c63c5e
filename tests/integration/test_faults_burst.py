"""Faults during a burst, on a private PostgreSQL cluster and a private Redis this test starts (restarting
them harms nothing else): 500 articles pushed through the API (a process) with a webhook subscription to a
loopback receiver; meanwhile PostgreSQL restarts, Redis restarts (every queued message lost), a pipeline
worker is killed with SIGKILL, and the receiver is down for several retry rounds. Nobody restarts the API or
the workers by hand. After recovery: every article processed, one match and one alert each, every alert
delivered and verified (a repeat only under the same webhook-id). The counts are printed.

The entity extractor is the fault plugin's (no model) so the burst is bounded by the faults, not by NER.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from shared.migrations import upgrade
from tests.support import processes
from tests.support.privateservers import PrivatePostgres, PrivateRedis
from tests.support.servers import LocalServer, Request, Response
from tests.support.webhooks import Receiver

# Bounded: every wait below has its limit, and pytest-timeout stops the whole test at 180 s (a pass takes
# about a minute); something lost fails the settle wait with the counts and the io worker's log.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

N = 500
ADMIN_KEY = "nwk_faults_admin_key"
WORDS = [
    "river",
    "bridge",
    "harvest",
    "market",
    "council",
    "railway",
    "museum",
    "valley",
    "harbour",
    "festival",
    "school",
    "clinic",
]


class Switchable(Receiver):
    """The receiver, answering 503 while `down` is set (each refused attempt counted)."""

    down = False
    refused = 0

    def __call__(self, req: Request) -> Response:
        if self.down:
            self.refused += 1
            return 503, {}, b"down"
        return super().__call__(req)


@pytest.fixture()
def private() -> Iterator[tuple[PrivatePostgres, PrivateRedis, dict[str, str]]]:
    pg, rds = PrivatePostgres().start(), PrivateRedis().start()
    url = pg.create_database("faults")
    upgrade(url)  # the schema before any process starts, so the API and the workers start side by side
    env = {
        "NEWSWATCH_DATABASE_URL": url,
        "NEWSWATCH_REDIS_URL": rds.url,
        "NEWSWATCH_REDIS_KEY_PREFIX": "",
        "NEWSWATCH_ADMIN_API_KEY": ADMIN_KEY,
        "NEWSWATCH_PLUGINS": "tests.support.faults",
        "NEWSWATCH_ENTITY_EXTRACTOR": "faulty",
        "NEWSWATCH_RETRY_SCHEDULE": "0,1,2,2,2,2,2,2,2,2,2,2",
        "NEWSWATCH_WATCH_MAX_ALERTS_PER_HOUR": "0",
    }
    try:
        yield pg, rds, env
    finally:
        rds.close()
        pg.close()


def _db_counts(pg: PrivatePostgres) -> dict[str, int]:
    with psycopg.connect(pg.url("faults").replace("+psycopg", "")) as conn:
        one = lambda q: int(conn.execute(q).fetchone()[0])  # noqa: E731
        return {
            "articles": one("SELECT count(*) FROM articles"),
            "processed": one("SELECT count(*) FROM articles WHERE status = 'processed'"),
            "matches": one("SELECT count(*) FROM matches"),
            "alerts": one("SELECT count(*) FROM alerts"),
            "deliveries": one("SELECT count(*) FROM deliveries"),
            "delivered": one("SELECT count(*) FROM deliveries WHERE status = 'succeeded'"),
            "attempts": one("SELECT count(*) FROM delivery_attempts"),
        }


def _answers(client: httpx.Client, path: str) -> bool:
    try:
        return client.get(path).status_code == 200
    except httpx.TransportError:
        return False


def test_burst_survives_restarts_kills_and_a_down_receiver(private, server: LocalServer) -> None:  # type: ignore[no-untyped-def]
    pg, rds, env = private
    port = processes.free_port()
    api = processes.Proc(
        ["api", "--host", "127.0.0.1", "--port", str(port)], env=env, name="faults-api"
    ).start()
    # the three start side by side (one after the other they spent half a minute on imports under load)
    io = processes.worker("fetcher,notifier", beat=True, name="faults-io", wait=False, **env)
    pipe = processes.worker("pipeline", name="faults-pipe", wait=False, **env)
    procs = [api, io, pipe]
    try:
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
        )
        # `newswatch api` runs one uvicorn process per CPU: the parent logs "Uvicorn running" before a child
        # listens, so readiness is /healthz answering
        processes.until("the API answering /healthz", lambda: _answers(client, "/healthz"), api, timeout=90)
        for p in (io, pipe):
            p.wait_for_log(" ready.", timeout=90)
        receiver = Switchable()
        server.routes["/hook"] = receiver
        watch = client.post("/api/v1/watches", json={"name": "burst", "query": "burstword"})
        assert watch.status_code == 201, watch.text
        sub = client.post(
            "/api/v1/subscriptions", json={"url": server.url("/hook"), "watches": [watch.json()["id"]]}
        )
        assert sub.status_code == 201, sub.text
        receiver.secret = sub.json()["secret"]

        rng = random.Random(15)
        articles = [
            {
                "title": f"burstword item {i}",
                "text": " ".join(rng.choice(WORDS) + str(rng.randrange(10**6)) for _ in range(40)),
                "url": f"http://127.0.0.1/burst/{i}",
            }
            for i in range(N)
        ]
        pushed: list[int] = []

        def push() -> None:
            for k in range(0, N, 50):
                batch = {"articles": articles[k : k + 50]}
                for _try in range(60):  # the API answers 5xx while PostgreSQL is down: the client retries
                    try:
                        r = client.post("/api/v1/articles", json=batch)
                        if r.status_code == 202:
                            pushed.extend(r.json()["ids"])
                            break
                    except httpx.HTTPError:
                        pass
                    time.sleep(0.5)
                time.sleep(0.2)

        started = time.monotonic()
        pusher = threading.Thread(target=push, daemon=True)
        pusher.start()
        time.sleep(2)
        pg.restart(down_for=2)  # connections of the API and the workers cut
        time.sleep(2)
        rds.restart(down_for=1)  # every queued message lost
        time.sleep(2)
        pipe.kill9()  # a pipeline worker dies with what it held
        pipe = processes.worker("pipeline", name="faults-pipe2", wait=False, **env)  # starts meanwhile
        procs.append(pipe)
        receiver.down = True  # several retry rounds refused
        time.sleep(6)
        receiver.down = False
        pipe.wait_for_log(" ready.", timeout=90)
        pusher.join(timeout=60)
        assert len(pushed) == N, f"pushed {len(pushed)}"
        pushed_s = time.monotonic() - started

        last: dict[str, int] = {}

        def settled() -> dict[str, int] | None:
            for proc in (api, io, pipe):  # nobody restarts them: one that exited fails the test at once
                assert proc.alive(), f"{proc.name} exited:\n{proc.log()[-4000:]}"
            last.update(_db_counts(pg))
            return dict(last) if last["processed"] == N and last["delivered"] == last["alerts"] == N else None

        try:
            counts = processes.until(
                "every article processed and every alert delivered", settled, io, timeout=75
            )
        except AssertionError as exc:  # lost work: say what was counted, then the io worker's log
            raise AssertionError(f"counts when the wait ended: {last}\n{exc}") from None
        settled_s = time.monotonic() - started
    finally:
        for p in procs:
            p.stop()
    ids = [v["id"] for v in receiver.verified]
    alert_ids = [v["body"]["data"]["alert_id"] for v in receiver.verified]
    report = {
        **counts,
        "received": len(receiver.ids),
        "verified": len(ids),
        "distinct_webhook_ids": len(set(ids)),
        "distinct_alerts_received": len(set(alert_ids)),
        "refused_while_down": receiver.refused,
        "rejected_signatures": len(receiver.rejected),
        "pushed_after_s": round(pushed_s, 1),
        "settled_after_s": round(settled_s, 1),
    }
    print("fault burst counts:", report)
    assert counts["articles"] == N and counts["matches"] == N and counts["alerts"] == N
    assert counts["deliveries"] == N
    assert receiver.rejected == []
    assert len(set(alert_ids)) == N  # every alert delivered
    by_alert: dict[int, set[str]] = {}
    for v in receiver.verified:
        by_alert.setdefault(v["body"]["data"]["alert_id"], set()).add(v["id"])
    assert all(len(s) == 1 for s in by_alert.values())  # a repeat only under the same webhook-id
    assert receiver.refused > 0
