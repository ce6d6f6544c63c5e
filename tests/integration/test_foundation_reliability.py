"""Foundation reliability: retries keep the webhook-id, a killed worker loses no article, bad feeds are
recorded and the next feed is still fetched."""

from __future__ import annotations

import random
import time

import pytest
from fastapi.testclient import TestClient

from tests.support import processes
from tests.support.processes import Proc
from tests.support.servers import LocalServer, Request, rss
from tests.support.webhooks import Receiver

pytestmark = pytest.mark.integration


_VOCABULARY = (
    "trade energy pipeline railway customs tariff grain wheat cotton gas oil uranium water border drone"
    " security exercise troops police terrorism cyber bank currency loan yuan rouble rupee investment port"
    " highway airport tourism visa student university hospital vaccine climate drought flood earthquake"
    " satellite mining copper gold textile fertiliser steel cement logistics freight corridor digital"
)
_WORDS = _VOCABULARY.split()


def _sco_article(i: int) -> dict[str, str]:
    """A distinct SCO article per i: distinct texts are distinct stories (near-copies would be one story)."""
    rng = random.Random(i)
    sentences = [" ".join(rng.sample(_WORDS, 12)).capitalize() + "." for _ in range(4)]
    return {
        "title": f"SCO summit day {i}: leaders discuss {' and '.join(rng.sample(_WORDS, 2))}",
        "text": "Heads of state of the Shanghai Cooperation Organisation met in Astana. "
        + " ".join(sentences),
        "url": f"https://news.example/sco/{i}",
    }


def test_receiver_failing_twice_gets_the_alert_again_with_the_same_id(
    api: TestClient, server: LocalServer, worker: Proc
) -> None:
    receiver = Receiver(fail_first=2)
    server.routes["/hook"] = receiver
    api.post("/api/v1/watches", json={"name": "SCO", "query": "SCO"})
    receiver.secret = api.post("/api/v1/subscriptions", json={"url": server.url("/hook")}).json()["secret"]
    assert api.post("/api/v1/articles", json=_sco_article(1)).status_code == 202

    assert server.wait_for(lambda: len(receiver.verified) >= 1, timeout=60), worker.log()[-3000:]
    assert len(receiver.ids) == 3
    assert len(set(receiver.ids)) == 1, "webhook-id must stay the same across retries"
    assert receiver.verified[0]["id"] == receiver.ids[0]
    server.wait_for(lambda: False, timeout=2)
    assert len(receiver.verified) == 1


def test_killing_the_worker_during_processing_loses_no_article(api: TestClient, redis_client) -> None:  # type: ignore[no-untyped-def]
    api.post("/api/v1/watches", json={"name": "SCO", "query": "SCO"})
    first = processes.worker("pipeline", name="victim")
    try:
        ids: list[int] = []
        for start in range(0, 40, 8):
            r = api.post(
                "/api/v1/articles", json={"articles": [_sco_article(i) for i in range(start, start + 8)]}
            )
            ids += r.json()["new_ids"]

        def processed() -> int:
            items = api.get("/api/v1/articles?status=processed&limit=200").json()["items"]
            return len(items)

        deadline = time.monotonic() + 90
        while processed() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processed() > 0, first.log()[-3000:]
    finally:
        first.kill9()
    done_before = processed()
    assert done_before < len(ids), "the worker finished everything before it was killed; nothing was tested"
    # a fresh worker with the scheduler: the sweep finds articles left in `fetched`
    second = processes.worker(beat=True, name="rescuer")
    try:
        deadline = time.monotonic() + 120
        while processed() < len(ids) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert processed() == len(ids), second.log()[-3000:]
        alerts = api.get("/api/v1/alerts?limit=200").json()["items"]
        assert len(alerts) == len(ids)
    finally:
        second.stop()


def _slow(req: Request) -> tuple[int, dict[str, str], bytes]:
    time.sleep(8)  # longer than NEWSWATCH_FETCH_TIMEOUT_SECONDS in tests
    return 200, {}, b"<rss/>"


def test_bad_feeds_record_their_error_and_the_next_feed_is_fetched(
    api: TestClient, server: LocalServer, worker: Proc
) -> None:
    server.routes["/not-xml"] = (200, {"content-type": "application/rss+xml"}, b"this is not xml at all {}")
    server.routes["/error"] = (500, {}, b"boom")
    server.routes["/slow"] = _slow
    server.routes["/good"] = (
        200,
        {"content-type": "application/rss+xml"},
        rss(
            [
                {
                    "title": "A good item about nothing",
                    "link": "http://127.0.0.1/good/1",
                    "guid": "g1",
                    "description": "d",
                }
            ]
        ),
    )
    for path in ("/not-xml", "/error", "/slow", "/good"):
        assert api.post("/api/v1/feeds", json={"url": server.url(path)}).status_code == 201

    def feeds() -> dict[str, dict]:
        return {f["url"].rsplit("/", 1)[1]: f for f in api.get("/api/v1/feeds").json()}

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        f = feeds()
        if all(f[k]["last_error"] for k in ("not-xml", "error", "slow")) and f["good"]["last_success_at"]:
            break
        time.sleep(0.3)
    f = feeds()
    assert f["good"]["last_success_at"] and f["good"]["last_error"] is None, f["good"]
    for k in ("not-xml", "error", "slow"):
        assert f[k]["last_error"], (k, f[k])
        assert f[k]["consecutive_failures"] >= 1
        assert f[k]["health"] in ("degraded", "failing")
    assert "500" in f["error"]["last_error"]
    assert len(api.get("/api/v1/articles").json()["items"]) == 1
    assert worker.alive()
