"""/readyz in embedded mode reports each worker's heartbeat and answers 503 while one is down."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from shared.config import get_settings
from shared.heartbeats import EMBEDDED_WORKERS, beat, heartbeat_dir

pytestmark = pytest.mark.integration


@pytest.fixture()
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Path]]:
    monkeypatch.setenv("NEWSWATCH_MODE", "embedded")
    monkeypatch.setenv("NEWSWATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'nw.db'}")
    monkeypatch.setenv("NEWSWATCH_WORKER_HEARTBEAT_TIMEOUT_SECONDS", "5")
    (tmp_path / "broker" / "queue").mkdir(parents=True)
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        yield client, tmp_path
    get_settings.cache_clear()


def test_readyz_needs_a_fresh_heartbeat_from_every_worker(embedded: tuple[TestClient, Path]) -> None:
    client, data_dir = embedded
    r = client.get("/readyz")
    assert r.status_code == 503
    assert {n: w["status"] for n, w in r.json()["workers"].items()} == dict.fromkeys(EMBEDDED_WORKERS, "down")
    for i, name in enumerate(EMBEDDED_WORKERS):
        beat(data_dir, name, 1000 + i)
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["workers"]["pipeline"]["pid"] == 1000
    stale = heartbeat_dir(data_dir) / "io.json"  # the io worker stopped beating a minute ago
    stale.write_text(json.dumps({"pid": 1001, "at": time.time() - 60}))
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["workers"]["io"]["status"] == "down" and r.json()["workers"]["pipeline"]["status"] == "ok"
