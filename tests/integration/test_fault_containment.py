"""One bad input never stops the rest: failing articles and watches are contained in a real worker.

The worker loads the fault-injection plugin (tests/support/faults.py) through NEWSWATCH_PLUGINS: an
entity extractor that fails on marked articles, and a resolver that fails to evaluate one office.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from shared.db import session_scope
from shared.models import Watch
from shared.models.account import SYSTEM_ACCOUNT_ID
from shared.rules.store import bump_ruleset_version
from tests.support import processes
from tests.support.faults import BROKEN_OFFICE, FAIL_MARKER
from tests.support.servers import LocalServer
from tests.support.webhooks import Receiver, subscribe

pytestmark = pytest.mark.integration


@pytest.fixture()
def fault_flag(tmp_path: Path) -> Path:
    flag = tmp_path / "fail"
    flag.write_text("on")
    return flag


@pytest.fixture()
def faulty_worker(clean_db: str, redis_client: redis.Redis, fault_flag: Path) -> Iterator[processes.Proc]:
    """A real worker whose entity extractor is the fault-injection plugin's."""
    proc = processes.worker(
        beat=True,
        NEWSWATCH_PLUGINS="tests.support.faults",
        NEWSWATCH_ENTITY_EXTRACTOR="faulty",
        NEWSWATCH_PIPELINE_MAX_ATTEMPTS="2",
        NWTEST_FAULT_FLAG=str(fault_flag),
    )
    yield proc
    proc.stop()


_until = processes.until


def test_a_failing_article_splits_the_batch_fails_after_bounded_tries_and_can_be_retried(
    api: TestClient, faulty_worker: processes.Proc, fault_flag: Path
) -> None:
    assert api.post("/api/v1/watches", json={"name": "sco", "query": "SCO"}).status_code == 201
    articles = [
        {"title": f"SCO summit day {i}", "text": "Leaders met.", "url": f"http://127.0.0.1/ok/{i}"}
        for i in range(5)
    ]
    articles.insert(2, {"title": f"SCO {FAIL_MARKER}", "text": "x", "url": "http://127.0.0.1/bad"})
    r = api.post("/api/v1/articles", json={"articles": articles})  # one request: one pipeline batch
    assert r.status_code == 202, r.text
    ids = r.json()["new_ids"]
    bad_id = ids[2]

    def states() -> dict[int, dict[str, Any]]:
        return {i: api.get(f"/api/v1/articles/{i}").json() for i in ids}

    def settled() -> dict[int, dict[str, Any]] | None:
        now = states()
        return now if all(a["status"] != "fetched" for a in now.values()) else None

    final = _until("every article processed or failed", settled, faulty_worker)
    assert {i: a["status"] for i, a in final.items() if i != bad_id} == dict.fromkeys(
        (i for i in ids if i != bad_id), "processed"
    )
    bad = final[bad_id]
    assert bad["status"] == "failed"
    assert bad["attempts"] == 2  # NEWSWATCH_PIPELINE_MAX_ATTEMPTS
    assert "injected model failure" in bad["error"]
    listed = api.get("/api/v1/articles", params={"status": "failed"}).json()["items"]
    assert [a["id"] for a in listed] == [bad_id]
    alerts = api.get("/api/v1/alerts").json()["items"]
    assert sorted(a["article_id"] for a in alerts) == sorted(i for i in ids if i != bad_id)

    assert api.post(f"/api/v1/articles/{ids[0]}/retry").status_code == 409  # only failed ones
    fault_flag.unlink()  # the cause is fixed
    r = api.post(f"/api/v1/articles/{bad_id}/retry")
    assert r.status_code == 202, r.text
    done = _until(
        "the retried article processed",
        lambda: (a := api.get(f"/api/v1/articles/{bad_id}").json())["status"] == "processed" and a,
        faulty_worker,
    )
    assert done["error"] is None and done["attempts"] == 0


def test_failing_watches_are_quarantined_and_the_others_keep_matching(
    api: TestClient, faulty_worker: processes.Proc, server: LocalServer
) -> None:
    receiver = Receiver()
    server.routes["/hook"] = receiver
    _sid, receiver.secret = subscribe(api, server.url("/hook"))
    good = api.post("/api/v1/watches", json={"name": "good", "query": "SCO"}).json()
    broken = api.post("/api/v1/watches", json={"name": "broken", "query": f'office:"{BROKEN_OFFICE}"'})
    assert broken.status_code == 201, broken.text  # it compiles; it fails only when evaluated
    with session_scope() as s:  # stored before the parser counted field prefixes: it cannot compile now
        deep = Watch(
            name="deep", query="title:" * 470 + "sco", canonical_query="", owner_id=SYSTEM_ACCOUNT_ID
        )
        s.add(deep)
        s.flush()
        deep_id = deep.id
        bump_ruleset_version(session=s)
    for i in range(3):
        r = api.post(
            "/api/v1/articles",
            json={"title": f"SCO summit {i}", "text": "Leaders met.", "url": f"http://127.0.0.1/w/{i}"},
        )
        assert r.status_code == 202, r.text

    _until("three alerts of the good watch", lambda: len(api.get("/api/v1/alerts").json()["items"]) == 3,
           faulty_worker)  # fmt: skip
    alerts = api.get("/api/v1/alerts").json()["items"]
    assert {a["watch_id"] for a in alerts} == {good["id"]}
    for watch_id, reason in ((broken.json()["id"], "fails to evaluate"), (deep_id, "does not compile")):
        w = api.get(f"/api/v1/watches/{watch_id}").json()
        assert w["status"] == "quarantined", w
        assert reason in w["status_reason"] and w["failed_at"]
    assert api.get(f"/api/v1/watches/{good['id']}").json()["status"] == "active"

    def failed_events() -> list[dict[str, Any]]:
        return [v["body"] for v in receiver.verified if v["body"]["type"] == "watch.failed"]

    events = _until("two watch.failed webhooks", lambda: len(failed_events()) >= 2 and failed_events(),
                    faulty_worker)  # fmt: skip
    time.sleep(2)  # time enough for a duplicate (two workers quarantining the same watch) to show
    events = failed_events()
    assert sorted(e["data"]["watch"]["name"] for e in events) == ["broken", "deep"]  # one event each
    assert all(e["data"]["reason"] for e in events)

    r = api.post(f"/api/v1/watches/{broken.json()['id']}/retry")  # resumed: matching again
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    fixed = api.patch(f"/api/v1/watches/{deep_id}", json={"query": "title:sco"})  # a new query resumes it
    assert fixed.status_code == 200 and fixed.json()["status"] == "active", fixed.text
