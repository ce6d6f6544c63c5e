"""GET /metrics through the API: Prometheus text adding up every process of the host (the API and a prefork
worker writing one multiprocess folder), with its access rule (a read key unless made public)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.config import Settings, get_settings
from shared.metrics import MULTIPROC_ENV, counter_values
from tests.support import processes
from tests.support.servers import LocalServer
from tests.support.webhooks import Receiver, subscribe

pytestmark = pytest.mark.integration


def _scrape(api: TestClient, **headers: str) -> dict[str, float]:
    r = api.get("/metrics", headers=headers or None)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return dict(counter_values(r.text))


def _deliveries(api: TestClient) -> list[dict[str, object]]:
    """Every delivery as the API lists it (type, status, attempts, last error), for a failure message."""
    r = api.get("/api/v1/deliveries", params={"limit": 50})
    keep = ("id", "event_type", "status", "attempts", "last_status_code", "last_error", "next_attempt_at")
    return [{k: d.get(k) for k in keep} for d in r.json().get("items", [])] if r.status_code == 200 else []


@pytest.fixture()
def multiproc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The multiprocess folder the `newswatch` commands set up, for this process and the worker it starts."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    monkeypatch.setenv(MULTIPROC_ENV, str(folder))
    yield folder


def test_metrics_need_a_read_key_unless_public(api: TestClient) -> None:
    assert api.get("/metrics", headers={"Authorization": ""}).status_code == 401
    assert api.get("/metrics", headers={"Authorization": "Bearer nwk_wrong"}).status_code == 401
    reader = api.post("/api/v1/keys", json={"name": "prometheus", "scopes": ["read"]})
    assert reader.status_code == 201, reader.text
    got = _scrape(api, Authorization=f"Bearer {reader.json()['key']}")
    assert 'newswatch_feeds{state="ok"}' in got

    api.app.dependency_overrides[get_settings] = lambda: Settings(metrics_public=True)  # type: ignore[attr-defined]
    try:
        assert api.get("/metrics", headers={"Authorization": ""}).status_code == 200
    finally:
        api.app.dependency_overrides.clear()  # type: ignore[attr-defined]


def test_counters_of_every_process_and_scrape_time_gauges(
    api: TestClient, server: LocalServer, multiproc: Path
) -> None:
    receiver = Receiver()
    server.routes["/hook"] = receiver
    watch = api.post("/api/v1/watches", json={"name": "SCO", "query": "SCO"})
    assert watch.status_code == 201, watch.text
    _, receiver.secret = subscribe(api, server.url("/hook"), watches=[watch.json()["id"]])
    feed = api.post("/api/v1/feeds", json={"url": server.url("/feed.xml"), "enabled": False})
    assert feed.status_code == 201, feed.text
    articles = [
        {
            "title": f"SCO news {i}" if i < 2 else f"Football {i}",
            "text": "Words.",
            "url": f"http://127.0.0.1/m{i}",
        }
        for i in range(3)
    ]
    assert api.post("/api/v1/articles", json={"articles": articles}).status_code == 202

    worker = processes.worker("pipeline,notifier", name="metrics-worker")
    try:
        assert server.wait_for(lambda: len(receiver.verified) >= 2, timeout=90), worker.log()[-3000:]
        # settled: every article counted and no delivery left open (the gauge is read from the database at
        # scrape time, so it is polled like the counters; a delivery that never leaves "pending" fails here)
        try:
            got = processes.until(
                "processed counted, nothing pending",
                lambda: (
                    (m := _scrape(api)).get('newswatch_articles_total{outcome="processed",source="api"}') == 3
                    and m.get('newswatch_deliveries_total{outcome="sent"}', 0) >= 2
                    and m.get('newswatch_deliveries_open{status="pending"}') == 0
                    and m
                ),
                worker,
                timeout=60,
            )
        except AssertionError as exc:
            seen = f"deliveries: {_deliveries(api)}\nlast scrape: {_scrape(api)}"
            raise AssertionError(f"{exc}\n{seen}") from None
    finally:
        worker.stop()
    print({k: v for k, v in got.items() if "bucket" not in k})
    assert got['newswatch_articles_total{outcome="fetched",source="api"}'] == 3  # counted by the API process
    assert got['newswatch_matches_total{kind="watch"}'] == 2  # counted by the worker's pool processes
    assert got['newswatch_alerts_total{kind="alert"}'] == 2
    assert got['newswatch_stage_seconds_count{stage="fetched_to_processed"}'] == 3
    assert got['newswatch_stage_seconds_count{stage="matched_to_sent"}'] == 2
    assert got["newswatch_articles_waiting"] == 0
    assert got['newswatch_deliveries_open{status="pending"}'] == 0
    assert got['newswatch_feeds{state="disabled"}'] == 1
    assert {k for k in got if k.startswith("newswatch_queue_depth")} == {
        f'newswatch_queue_depth{{queue="{q}"}}' for q in ("fetcher", "pipeline", "notifier")
    }
    # several processes wrote the folder: the API (this one) and the worker's children
    pids = {re.sub(r"^\w+_", "", p.stem) for p in multiproc.glob("*.db")}
    assert len(pids) >= 2, pids
