"""NEWSWATCH_LOG_FORMAT=json on a real worker: a failing article's warning is one JSON line naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support import processes
from tests.support.faults import FAIL_MARKER

pytestmark = pytest.mark.integration


def _records(proc: processes.Proc) -> list[dict[str, object]]:
    out = []
    for line in proc.log().splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))  # every line in the JSON shape parses
    return out


def test_worker_logs_json_with_article_and_task(
    api: TestClient, tmp_path: Path, redis_client: object
) -> None:
    flag = tmp_path / "fail"
    flag.write_text("on")
    worker = processes.worker(
        "pipeline",
        name="json-worker",
        NEWSWATCH_LOG_FORMAT="json",
        NEWSWATCH_PLUGINS="tests.support.faults",
        NEWSWATCH_ENTITY_EXTRACTOR="faulty",
        NEWSWATCH_PIPELINE_MAX_ATTEMPTS="1",
        NWTEST_FAULT_FLAG=str(flag),
    )
    try:
        r = api.post(
            "/api/v1/articles", json={"title": f"bad {FAIL_MARKER}", "text": "x", "url": "http://127.0.0.1/j"}
        )
        assert r.status_code == 202, r.text
        article_id = r.json()["ids"][0]
        found = processes.until(
            "a JSON warning naming the article",
            lambda: [x for x in _records(worker) if x.get("article_id") == article_id],
            worker,
            timeout=60,
        )
    finally:
        worker.stop()
    rec = found[0]
    assert rec["level"] == "WARNING" and f"article {article_id} failed" in str(rec["message"])
    assert rec["task"] == "pipeline.process_batch" and rec["task_id"]
    assert rec["article_ids"] == [article_id]
    assert any("ready" in str(x["message"]) for x in _records(worker))  # Celery's own records too
