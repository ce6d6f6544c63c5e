"""Through the real worker: scheduled polling stores articles with stories and health, and a WebSub push
reaches the pipeline within seconds."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from fastapi.testclient import TestClient

from shared.config import get_settings
from shared.db import session_scope
from shared.fetching import push
from shared.models import Feed
from tests.support.processes import Proc
from tests.support.servers import LocalServer, rss

pytestmark = pytest.mark.integration

TEXT = (
    "Heads of state of the Shanghai Cooperation Organisation met in Astana for their annual summit and "
    "signed a declaration on regional security, trade corridors and energy cooperation among members."
)


def _wait(predicate, timeout: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_scheduled_poll_and_websub_push_reach_the_pipeline(
    api: TestClient, server: LocalServer, worker: Proc
) -> None:
    hub = server.url("/hub")
    server.routes["/hub"] = (202, {}, b"")
    body = rss([{"title": "SCO summit opens in Astana", "link": "https://wire.example/sco/1", "guid": "w1",
                 "description": TEXT}])  # fmt: skip
    body = body.replace(
        b"<channel>",
        b"<channel><atom:link xmlns:atom='http://www.w3.org/2005/Atom' rel='hub' href='"
        + hub.encode()
        + b"'/>",
    )
    server.routes["/feed.xml"] = (200, {"content-type": "application/rss+xml"}, body)
    created = api.post("/api/v1/feeds", json={"url": server.url("/feed.xml")})
    assert created.status_code == 201, created.text
    fid = created.json()["id"]

    def polled() -> bool:
        feed = api.get(f"/api/v1/feeds/{fid}").json()
        return feed["last_success_at"] is not None and feed["hub_url"] == hub

    assert _wait(polled), api.get(f"/api/v1/feeds/{fid}").json()
    items = api.get("/api/v1/articles").json()["items"]
    assert len(items) == 1
    detail = api.get(f"/api/v1/articles/{items[0]['id']}").json()
    assert (
        detail.get("story_id", items[0]["id"]) in (None, items[0]["id"])
        or detail["story_id"] == items[0]["id"]
    )

    # The worker tried to subscribe (no public URL configured here): the state says why it cannot.
    assert _wait(lambda: api.get(f"/api/v1/feeds/{fid}").json()["websub_state"] == "disabled", timeout=30)
    settings = get_settings().model_copy(update={"public_url": "https://newswatch.example"})
    with session_scope() as session:
        assert push.subscribe(session=session, feed_id=fid, settings=settings) == "pending"
        feed = session.get(Feed, fid)
        assert feed is not None
        token, secret = feed.websub_token, push.feed_secret(feed, settings)
    q = {"hub.mode": "subscribe", "hub.topic": server.url("/feed.xml"), "hub.challenge": "ok"}
    assert api.get(f"/websub/{fid}/{token}", params=q).text == "ok"

    pushed = rss([{"title": "Pushed: SCO leaders sign declaration", "link": "https://wire.example/sco/2",
                   "guid": "w2", "description": "A story about the signing ceremony " * 5}])  # fmt: skip
    sig = "sha256=" + hmac.new(secret.encode(), pushed, hashlib.sha256).hexdigest()
    sent_at = time.monotonic()
    r = api.post(f"/websub/{fid}/{token}", content=pushed, headers={"x-hub-signature": sig})
    assert r.status_code == 202 and r.json() == {"accepted": 1}

    def processed() -> bool:
        arts = api.get("/api/v1/articles").json()["items"]
        return any(a["title"].startswith("Pushed") and a["status"] == "processed" for a in arts)

    assert _wait(processed, timeout=30), api.get("/api/v1/articles").json()
    assert time.monotonic() - sent_at < 30
    assert worker.alive()
