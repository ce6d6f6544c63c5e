"""A pipeline worker loads its entity extractor and compiles the watches once, in its main process before
the pool forks: its pool processes start with them (their first batch does not pay seconds for them), a
changed rule set is still compiled anew, and a worker that takes no pipeline tasks loads nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support import processes

pytestmark = pytest.mark.integration

PLUGIN = {"NEWSWATCH_PLUGINS": "tests.support.counting", "NEWSWATCH_ENTITY_EXTRACTOR": "counting"}


def _notes(path: Path) -> list[tuple[str, int]]:
    if not path.exists():
        return []
    return [(w[0], int(w[1])) for w in (line.split() for line in path.read_text().splitlines())]


def _push(api: TestClient, n: int, title: str) -> None:
    body = {"title": title, "text": f"Leaders met in Astana ({n}).", "url": f"http://127.0.0.1/warm/{n}"}
    r = api.post("/api/v1/articles", json=body)
    assert r.status_code == 202, r.text


def _alerted(api: TestClient, watch: str) -> list[object]:
    return [a for a in api.get("/api/v1/alerts").json()["items"] if a["watch"] == watch]


def test_the_pool_starts_warm_and_still_follows_rule_changes(api: TestClient, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    env = {**PLUGIN, "NWTEST_COUNTING_FILE": str(notes)}
    r = api.post("/api/v1/watches", json={"name": "summit", "query": "summit AND Astana"})
    assert r.status_code == 201, r.text

    other = processes.worker("notifier", name="notifier-only", **env)  # takes no pipeline tasks
    try:
        assert _notes(notes) == [], "a notifier-only worker loaded the extractor"
        assert "pipeline warmed" not in other.log()
    finally:
        other.stop()

    worker = processes.worker("pipeline", name="pipeline-warm", **env)
    try:
        parent = worker.popen.pid if worker.popen else -1
        log = worker.log()
        assert _notes(notes) == [("made", parent), ("extract", parent)], "warmed before the pool forked"
        assert "pipeline warmed" in log, log[-3000:]
        assert len(re.findall(r"compiled \d+ watches", log)) == 1, log[-3000:]

        for n in range(12):
            _push(api, n, f"Summit number {n}")
        processes.until("alerts for the 12 articles", lambda: len(_alerted(api, "summit")) >= 12, worker)
        made = [pid for kind, pid in _notes(notes) if kind == "made"]
        by = {pid for kind, pid in _notes(notes)[2:] if kind == "extract"}
        assert made == [parent], "a pool process made its own extractor"
        assert by and parent not in by, "the batches ran in the pool processes"
        assert len(re.findall(r"compiled \d+ watches", worker.log())) == 1, "a pool process compiled again"

        r = api.post("/api/v1/watches", json={"name": "later", "query": "Astana AND leaders"})
        assert r.status_code == 201, r.text
        _push(api, 100, "Leaders arrive")
        processes.until("an alert of the watch added later", lambda: _alerted(api, "later"), worker)
        assert len(re.findall(r"compiled \d+ watches", worker.log())) >= 2  # the new rule set, compiled
    finally:
        worker.stop()
