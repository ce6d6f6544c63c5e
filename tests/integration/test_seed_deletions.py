"""Seed watches and feeds the user deleted stay deleted at the next start (`newswatch seed` / `run`)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.cli import main

pytestmark = pytest.mark.integration


def test_deleted_seed_watches_and_feeds_do_not_come_back(api: TestClient) -> None:
    assert main(["seed", "--no-enqueue"]) == 0
    watches = api.get("/api/v1/watches").json()
    feeds = api.get("/api/v1/feeds").json()
    assert watches and feeds, "the seeds create watches and feeds"
    gone_watch, gone_feed = watches[0], feeds[0]
    assert api.delete(f"/api/v1/watches/{gone_watch['id']}").status_code == 204
    assert api.delete(f"/api/v1/feeds/{gone_feed['id']}").status_code == 204
    renamed = api.patch(f"/api/v1/watches/{watches[1]['id']}", json={"name": "mine now"})
    assert renamed.status_code == 200, renamed.text

    assert main(["seed", "--no-enqueue"]) == 0  # the next start seeds again
    names = [w["name"] for w in api.get("/api/v1/watches").json()]
    urls = [f["url"] for f in api.get("/api/v1/feeds").json()]
    assert gone_watch["name"] not in names and watches[1]["name"] not in names
    assert "mine now" in names and len(names) == len(watches) - 1
    assert gone_feed["url"] not in urls and len(urls) == len(feeds) - 1
