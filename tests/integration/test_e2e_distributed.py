"""End to end on the real parts: a feed on loopback → scheduled fetch in a worker → pipeline → alert →
signed webhook, received and verified with the standardwebhooks package."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.processes import Proc
from tests.support.servers import LocalServer, rss
from tests.support.webhooks import Receiver

pytestmark = pytest.mark.integration

SCO_ITEM = {
    "title": "SCO foreign ministers meet in Astana ahead of summit",
    "link": "http://127.0.0.1/news/sco-ministers?utm_source=rss",
    "guid": "sco-1",
    "description": "Foreign ministers of the Shanghai Cooperation Organisation met in Astana on Tuesday "
    "to prepare the summit of heads of state. Russian Foreign Minister Sergei Lavrov and Chinese Foreign "
    "Minister Wang Yi attended.",
    "pubDate": "Tue, 25 Nov 2026 10:00:00 GMT",
}
OTHER_ITEM = {
    "title": "Local football club wins cup",
    "link": "http://127.0.0.1/news/football",
    "guid": "fb-1",
    "description": "The club won the final 2-1 on Saturday.",
}


def test_feed_to_verified_webhook(api: TestClient, server: LocalServer, worker: Proc) -> None:
    server.routes["/feed.xml"] = (200, {"content-type": "application/rss+xml"}, rss([SCO_ITEM, OTHER_ITEM]))
    receiver = Receiver()
    server.routes["/hook"] = receiver
    watch = api.post(
        "/api/v1/watches", json={"name": "SCO", "query": 'SCO OR "Shanghai Cooperation Organisation"'}
    )
    assert watch.status_code == 201, watch.text
    sub = api.post(
        "/api/v1/subscriptions", json={"url": server.url("/hook"), "watches": [watch.json()["id"]]}
    )
    receiver.secret = sub.json()["secret"]
    feed = api.post("/api/v1/feeds", json={"url": server.url("/feed.xml")})
    assert feed.status_code == 201, feed.text

    assert server.wait_for(lambda: len(receiver.verified) >= 1, timeout=90), worker.log()[-3000:]
    assert receiver.rejected == []
    event = receiver.verified[0]["body"]
    assert event["type"] == "alert.created"
    assert event["data"]["watch"]["name"] == "SCO"
    assert event["data"]["article"]["title"] == SCO_ITEM["title"]
    assert "SCO" in {t["term"] for t in event["data"]["matched_terms"]}

    alerts = api.get("/api/v1/alerts").json()["items"]
    assert [a["title"] for a in alerts] == [SCO_ITEM["title"]]
    feeds = api.get("/api/v1/feeds").json()
    assert feeds[0]["last_success_at"] is not None and feeds[0]["last_error"] is None
    arts = api.get("/api/v1/articles").json()["items"]
    assert len(arts) == 2
    sco = next(a for a in arts if a["title"] == SCO_ITEM["title"])
    detail = api.get(f"/api/v1/articles/{sco['id']}").json()
    assert detail["status"] == "processed"
    assert detail["matches"][0]["watch"] == "SCO"
    assert any(e["label"] == "PERSON" for e in detail["entities"])
    # exactly one delivery: the football article matched nothing
    server.wait_for(lambda: False, timeout=2)
    assert len(receiver.verified) == 1
