"""Owners and scopes, route by route: the test walks the app's routes, so a new route without a case here
fails it. Every /api/v1 route answers 401 without a key, 403 to a key of too small a scope, and 404 to
another account's key for a resource it does not own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.api.errors import api_routes
from shared.alerts import service
from shared.config import get_settings
from shared.db import session_scope
from shared.fetching import store
from shared.models import Article, Delivery, Watch
from shared.rules.types import MatchResult, TermHit
from tests.support.apiserver import serve_api

pytestmark = pytest.mark.integration

Body = dict[str, Any] | None


@dataclass(frozen=True)
class Case:
    """What a route needs (`scope`), whose resource its path names (`owned`), and a valid body."""

    scope: str
    owned: str | None = None  # the kind named by the path id; None: shared corpus, the caller, or a list
    body: Body = None
    query: str = ""
    listed: str | None = None  # a list route: the kind whose items must be the caller's only
    streams: bool = False  # an endless response: only the refusals are checked


# Routes outside /api/v1 take no API key, each for a reason.
OPEN = {
    ("GET", "/"): "the dashboard page; it calls the API with the key the user types",
    ("GET", "/static/{name}"): "the dashboard page's scripts, style sheet and icon (a fixed list of files)",
    ("GET", "/docs"): "the API's documentation page (Swagger UI), public like /openapi.json",
    ("GET", "/redoc"): "the API's documentation page (ReDoc), public like /openapi.json",
    ("GET", "/docs-assets/{name}"): "the documentation pages' scripts, style sheet and icon (shipped files)",
    ("GET", "/healthz"): "liveness probe",
    ("GET", "/readyz"): "readiness probe",
    ("GET", "/websub/{feed_id}/{token}"): "hubs carry no key: the unguessable per-feed token authenticates",
    ("POST", "/websub/{feed_id}/{token}"): "hubs carry no key: the token and the X-Hub-Signature do",
}

CASES: dict[tuple[str, str], Case] = {
    ("GET", "/metrics"): Case("read"),  # a read key unless NEWSWATCH_METRICS_PUBLIC (test_metrics.py)
    ("GET", "/api/v1/me"): Case("read"),
    ("GET", "/api/v1/accounts"): Case("admin"),
    ("POST", "/api/v1/accounts"): Case("admin", body={"name": "someone"}),
    ("GET", "/api/v1/accounts/{account_id}"): Case("admin"),
    ("GET", "/api/v1/keys"): Case("admin"),
    ("POST", "/api/v1/keys"): Case("admin", body={"name": "k", "scopes": ["read"], "owner": "alpha"}),
    ("GET", "/api/v1/keys/{key_id}"): Case("admin"),
    ("DELETE", "/api/v1/keys/{key_id}"): Case("admin"),
    ("GET", "/api/v1/articles"): Case("read"),
    ("POST", "/api/v1/articles"): Case("write", body={"title": "pushed", "text": "x"}),
    ("GET", "/api/v1/articles/{article_id}"): Case("read"),
    ("POST", "/api/v1/articles/{article_id}/retry"): Case("write"),
    ("GET", "/api/v1/entities"): Case("read"),
    ("GET", "/api/v1/entities/{entity_id}"): Case("read"),
    ("GET", "/api/v1/entities/{entity_id}/cooccurrence"): Case("read"),
    ("GET", "/api/v1/watches"): Case("read", listed="watch"),
    ("POST", "/api/v1/watches"): Case("write", body={"name": "new", "query": "SCO"}),
    ("POST", "/api/v1/watches/validate"): Case("write", body={"query": "SCO"}),
    ("POST", "/api/v1/watches/backtest"): Case("write", body={"query": "SCO"}),
    ("GET", "/api/v1/watches/{watch_id}"): Case("read", owned="watch"),
    ("PATCH", "/api/v1/watches/{watch_id}"): Case("write", owned="watch", body={"name": "renamed"}),
    ("DELETE", "/api/v1/watches/{watch_id}"): Case("write", owned="watch"),
    ("POST", "/api/v1/watches/{watch_id}/backtest"): Case("write", owned="watch", body={}),
    ("POST", "/api/v1/watches/{watch_id}/retry"): Case("write", owned="watch"),
    ("GET", "/api/v1/feeds"): Case("read", listed="feed"),
    ("POST", "/api/v1/feeds"): Case("write", body={"url": "http://127.0.0.1:9/other.xml"}),
    ("GET", "/api/v1/feeds/events"): Case("read", listed="feed_event"),
    ("GET", "/api/v1/feeds/{feed_id}"): Case("read", owned="feed"),
    ("PATCH", "/api/v1/feeds/{feed_id}"): Case("write", owned="feed", body={"title": "t"}),
    ("DELETE", "/api/v1/feeds/{feed_id}"): Case("write", owned="feed"),
    ("GET", "/api/v1/feeds/{feed_id}/events"): Case("read", owned="feed"),
    ("POST", "/api/v1/feeds/{feed_id}/fetch"): Case("write", owned="feed"),
    ("GET", "/api/v1/subscriptions"): Case("read", listed="subscription"),
    ("POST", "/api/v1/subscriptions"): Case("write", body={"url": "http://127.0.0.1:9/other"}),
    ("GET", "/api/v1/subscriptions/{sub_id}"): Case("read", owned="subscription"),
    ("PATCH", "/api/v1/subscriptions/{sub_id}"): Case(
        "write", owned="subscription", body={"description": "d"}
    ),
    ("DELETE", "/api/v1/subscriptions/{sub_id}"): Case("write", owned="subscription"),
    ("POST", "/api/v1/subscriptions/{sub_id}/replay"): Case("write", owned="subscription", body={}),
    ("POST", "/api/v1/subscriptions/{sub_id}/rotate-secret"): Case("write", owned="subscription"),
    ("POST", "/api/v1/subscriptions/{sub_id}/test"): Case("write", owned="subscription"),
    ("GET", "/api/v1/subscriptions/{sub_id}/deliveries"): Case("read", owned="subscription"),
    ("GET", "/api/v1/alerts"): Case("read", listed="alert"),
    ("GET", "/api/v1/alerts/stream"): Case("read", streams=True),
    ("GET", "/api/v1/alerts/{alert_id}"): Case("read", owned="alert"),
    ("GET", "/api/v1/alerts/by-story"): Case("read", listed="alert"),
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): Case("write", owned="alert", body={}),
    ("POST", "/api/v1/alerts/{alert_id}/false-positive"): Case("write", owned="alert", body={"note": "n"}),
    ("DELETE", "/api/v1/alerts/{alert_id}/false-positive"): Case("write", owned="alert"),
    ("GET", "/api/v1/watches/{watch_id}/feedback"): Case("read", owned="watch"),
    ("GET", "/api/v1/entities/rising"): Case("read"),
    ("GET", "/api/v1/entities/{entity_id}/trend"): Case("read"),
    ("GET", "/api/v1/stories"): Case("read"),
    ("GET", "/api/v1/stories/rising"): Case("read"),
    ("GET", "/api/v1/stories/{story_id}"): Case("read"),
    ("GET", "/api/v1/feeds/health"): Case("read", listed="feed"),
    ("GET", "/api/v1/feeds/coverage"): Case("read"),
    ("GET", "/api/v1/pipeline"): Case("read"),
    ("GET", "/api/v1/deliveries"): Case("read", listed="delivery"),
    ("GET", "/api/v1/deliveries/{delivery_id}"): Case("read", owned="delivery"),
    ("POST", "/api/v1/deliveries/{delivery_id}/replay"): Case("write", owned="delivery"),
}
PATH_KINDS = {
    "watch_id": "watch",
    "feed_id": "feed",
    "sub_id": "subscription",
    "alert_id": "alert",
    "delivery_id": "delivery",
    "key_id": "key",
    "account_id": "account",
    "article_id": "article",
    "entity_id": "entity",
    "story_id": "story",
}
BELOW = {"write": "read", "admin": "write"}
ONE = {
    "watch": "/api/v1/watches/{}",
    "feed": "/api/v1/feeds/{}",
    "subscription": "/api/v1/subscriptions/{}",
    "alert": "/api/v1/alerts/{}",
    "delivery": "/api/v1/deliveries/{}",
}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class World:
    """Two accounts (alpha owns one of everything, beta owns nothing) and their keys by scope."""

    keys: dict[str, dict[str, str]] = field(default_factory=dict)  # account → scope → key
    ids: dict[str, int] = field(default_factory=dict)  # kind → alpha's resource id

    def as_(self, account: str, scope: str) -> dict[str, str]:
        return _bearer(self.keys[account][scope])


def _match(watch_id: int, n: int) -> list[int]:
    """The watch matches a new article, as the pipeline records it (alert, deliveries, live event)."""
    with session_scope() as s:
        url = f"https://e.example/{n}"
        article = Article(url=url, canonical_url=url, title="SCO story")
        s.add(article)
        s.flush()
        watch = s.get(Watch, watch_id)
        assert watch is not None
        hit = MatchResult(watch_id, watch.name, 1.0, [TermHit("SCO", "title", 0, 3, "SCO")], "SCO story")
        return service.record_match(
            session=s, article=article, watch=watch, result=hit, settings=get_settings()
        )


def _alert_for(watch_id: int, n: int = 0) -> tuple[int, int]:
    """An alert of alpha's watch and the delivery to alpha's subscription."""
    [delivery_id] = _match(watch_id, n)
    with session_scope() as s:
        delivery = s.get(Delivery, delivery_id)
        assert delivery is not None and delivery.alert_id is not None
        return delivery.alert_id, delivery_id


@pytest.fixture()
def world(api: TestClient) -> Iterator[World]:
    w = World()
    for account in ("alpha", "beta"):
        w.keys[account] = {}
        for scope in ("read", "write", "admin"):
            owner = None if not w.keys[account] else account
            name = account if owner is None else f"{account}-{scope}"
            r = api.post("/api/v1/keys", json={"name": name, "scopes": [scope], "owner": owner})
            assert r.status_code == 201, r.text
            w.keys[account][scope] = r.json()["key"]
    alpha = w.as_("alpha", "write")
    watch = api.post("/api/v1/watches", json={"name": "mine", "query": "SCO"}, headers=alpha)
    feed = api.post("/api/v1/feeds", json={"url": "http://127.0.0.1:9/feed.xml"}, headers=alpha)
    sub = api.post("/api/v1/subscriptions", json={"url": "http://127.0.0.1:9/hook"}, headers=alpha)
    for r in (watch, feed, sub):
        assert r.status_code == 201, r.text
    w.ids.update(watch=watch.json()["id"], feed=feed.json()["id"], subscription=sub.json()["id"])
    w.ids["alert"], w.ids["delivery"] = _alert_for(w.ids["watch"])
    with session_scope() as s:  # a health event of alpha's feed, as a failing fetch records it
        store.add_event(session=s, feed_id=w.ids["feed"], type="feed.unhealthy", health="failing", reason="x")
    me = api.get("/api/v1/me", headers=alpha).json()
    w.ids.update(key=me["key_id"], account=me["owner_id"], article=1, entity=1, story=1)
    yield w


def _url(path: str, world: World, case: Case) -> str:
    for param, kind in PATH_KINDS.items():
        path = path.replace("{" + param + "}", str(world.ids[kind]))
    return path + case.query


def _call(api: TestClient, method: str, url: str, body: Body, headers: dict[str, str]) -> Any:
    return api.request(method, url, json=body, headers=headers)


def test_every_route_has_a_case() -> None:
    routes = {(m, p) for p, m, _ in api_routes(create_app())}
    missing = sorted(r for r in routes if r not in CASES and r not in OPEN)
    assert not missing, f"routes without an access case (add them to CASES or OPEN): {missing}"
    stale = sorted(r for r in CASES if r not in routes)
    assert not stale, f"cases for routes that no longer exist: {stale}"


def test_every_route_refuses_no_key_a_small_scope_and_another_owner(api: TestClient, world: World) -> None:
    found: list[str] = []
    for path, method, _ in sorted(api_routes(api.app), key=lambda r: (r[0], r[1])):  # type: ignore[arg-type]
        if (method, path) in OPEN:
            continue
        case = CASES[(method, path)]
        url = _url(path, world, case)
        label = f"{method} {path}"
        r = _call(api, method, url, case.body, {"Authorization": ""})
        if r.status_code != 401:
            found.append(f"{label}: {r.status_code} without a key")
        if case.scope in BELOW:
            r = _call(api, method, url, case.body, world.as_("alpha", BELOW[case.scope]))
            if r.status_code != 403:
                found.append(f"{label}: {r.status_code} with a {BELOW[case.scope]} key")
        if case.owned is not None:
            r = _call(api, method, url, case.body, world.as_("beta", case.scope))
            if r.status_code != 404:
                found.append(f"{label}: {r.status_code} for another account's {case.owned}")
            mine = api.get(ONE[case.owned].format(world.ids[case.owned]), headers=world.as_("alpha", "read"))
            if mine.status_code != 200:
                found.append(
                    f"{label}: alpha's {case.owned} is gone after beta's request ({mine.status_code})"
                )
        if case.listed is not None:
            theirs = api.get(url, headers=world.as_("beta", "read"))
            ours = api.get(url, headers=world.as_("alpha", "read"))
            if theirs.status_code != 200 or ours.status_code != 200:
                found.append(f"{label}: lists answer {theirs.status_code}/{ours.status_code}")
            elif _items(theirs.json()) or not _items(ours.json()):
                found.append(f"{label}: beta sees {_items(theirs.json())}, alpha {_items(ours.json())}")
    assert not found, "\n".join(found)


def _items(data: Any) -> list[Any]:
    return data["items"] if isinstance(data, dict) else data


def test_events_reach_only_the_subscriptions_of_their_owner(api: TestClient, world: World) -> None:
    """A subscription without a watch filter hears its own account's watches and feeds, nobody else's."""
    beta = world.as_("beta", "write")
    theirs = api.post("/api/v1/subscriptions", json={"url": "http://127.0.0.1:9/beta"}, headers=beta)
    assert theirs.status_code == 201, theirs.text
    naming = {"url": "http://127.0.0.1:9/beta2", "watches": [world.ids["watch"]]}
    assert api.post("/api/v1/subscriptions", json=naming, headers=beta).status_code == 422
    _alert_for(world.ids["watch"], n=1)
    seen = api.get("/api/v1/deliveries").json()["items"]  # the admin sees every delivery
    assert seen and {d["subscription_id"] for d in seen} == {world.ids["subscription"]}
    assert api.get("/api/v1/deliveries", headers=beta).json()["items"] == []


def test_the_alert_stream_carries_only_the_callers_watches(
    api: TestClient, world: World, redis_client: Any
) -> None:
    beta = world.as_("beta", "write")
    mine = api.post("/api/v1/watches", json={"name": "beta's", "query": "SCO"}, headers=beta).json()["id"]
    seen: list[int] = []
    with (
        serve_api() as base_url,
        httpx.Client(base_url=base_url, timeout=15) as client,
        client.stream("GET", "/api/v1/alerts/stream", headers=world.as_("beta", "read")) as stream,
    ):
        lines = stream.iter_lines()
        assert next(lines).startswith("retry:")  # subscribed
        _match(world.ids["watch"], n=7)  # alpha's first: a stream that leaked would show it first
        _match(mine, n=8)
        for line in lines:
            if line.startswith("data:"):
                seen.append(json.loads(line[5:])["watch"]["id"])
                if mine in seen:
                    break
    assert seen == [mine]


def test_articles_are_shared_but_their_matches_are_the_callers(api: TestClient, world: World) -> None:
    alert = api.get(f"/api/v1/alerts/{world.ids['alert']}", headers=world.as_("alpha", "read")).json()
    article_id = alert["article_id"]
    theirs = api.get(f"/api/v1/articles/{article_id}", headers=world.as_("beta", "read"))
    ours = api.get(f"/api/v1/articles/{article_id}", headers=world.as_("alpha", "read"))
    assert theirs.status_code == ours.status_code == 200
    assert theirs.json()["matches"] == []
    assert [m["watch_id"] for m in ours.json()["matches"]] == [world.ids["watch"]]
