"""A running worker picks up a new rule set (the version counter moves) without a restart."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from tests.support.processes import Proc

pytestmark = pytest.mark.integration


def _alerts_for(api: TestClient, watch: str) -> list[dict[str, object]]:
    return [a for a in api.get("/api/v1/alerts").json()["items"] if a["watch"] == watch]


def _wait(api: TestClient, watch: str, worker: Proc, timeout: float = 90.0) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _alerts_for(api, watch)
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no alert for {watch!r}; worker log:\n{worker.log()[-3000:]}")


def test_new_watch_takes_effect_without_restart(api: TestClient, worker: Proc) -> None:
    a = api.post("/api/v1/watches", json={"name": "A", "query": '"Shanghai Cooperation Organisation"'})
    assert a.status_code == 201, a.text
    r = api.post(
        "/api/v1/articles",
        json={
            "title": "Shanghai Cooperation Organisation summit opens",
            "text": "Leaders gather in Astana.",
            "url": "http://127.0.0.1/a",
        },
    )
    assert r.status_code == 202, r.text
    first = _wait(api, "A", worker)
    assert first[0]["title"] == "Shanghai Cooperation Organisation summit opens"

    b = api.post("/api/v1/watches", json={"name": "B", "query": "RATS AND Tashkent"})
    assert b.status_code == 201, b.text
    r = api.post(
        "/api/v1/articles",
        json={
            "title": "RATS council meets in Tashkent",
            "text": "The SCO anti-terrorism structure met.",
            "url": "http://127.0.0.1/b",
        },
    )
    assert r.status_code == 202, r.text
    second = _wait(api, "B", worker)
    assert second[0]["title"] == "RATS council meets in Tashkent"
    assert worker.alive()  # the same worker, never restarted
    assert [x["title"] for x in _alerts_for(api, "A")] == ["Shanghai Cooperation Organisation summit opens"]
