"""The dashboard API over real processing (pushed articles → pipeline → alerts): stories and their timeline,
alerts filtered and grouped by story, acknowledge, false positives as watch feedback in backtests, feeds,
the pipeline, and examples in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration

SUMMIT = {
    "title": "SCO summit opens in Astana",
    "text": "Leaders of the Shanghai Cooperation Organisation met in Astana. Xi Jinping and Vladimir Putin "
    "attended the summit and spoke about security.",
}
ARTICLES = [
    {**SUMMIT, "url": "https://news.example.org/a1"},
    {**SUMMIT, "url": "https://www.other-paper.ru/a2"},  # a copy: same story, another source
    {"title": "SCO Group sues IBM over Linux", "text": "The SCO Group filed a lawsuit about Linux code.",
     "url": "https://tech.example.com/a3"},
    {"title": "Weather", "text": "Rain in the north.", "url": "https://weather.example/1"},
]  # fmt: skip


@pytest.fixture()
def world(api: TestClient) -> dict[str, Any]:
    from shared.config import get_settings
    from shared.db import session_scope
    from shared.models import Article
    from shared.pipeline import service

    sco = api.post("/api/v1/watches", json={"name": "SCO", "query": 'SCO OR "Shanghai Cooperation"'}).json()
    summit = api.post("/api/v1/watches", json={"name": "Summits", "query": "summit"}).json()
    pushed = api.post("/api/v1/articles", json={"articles": ARTICLES})
    assert pushed.status_code == 202, pushed.text
    ids = pushed.json()["ids"]
    with session_scope() as session:  # a link stored before ingestion refused non-http ones (422 now)
        weather = session.get(Article, ids[3])
        assert weather is not None
        weather.url = weather.canonical_url = "javascript:alert(document.domain)"
        session.add(weather)
    service.process_batch(sessions=session_scope, article_ids=ids, settings=get_settings())
    return {"sco": sco["id"], "summit": summit["id"], "ids": ids}


def test_search_through_the_api_with_facets_and_safe_links(api: TestClient, world: dict[str, Any]) -> None:
    r = api.get("/api/v1/articles", params={"q": "summit", "facets": "true", "language": "en"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert {h["id"] for h in body["items"]} == set(world["ids"][:2])
    assert body["facets"]["total"] == 2 and body["facets"]["languages"] == [{"language": "en", "count": 2}]
    hit = body["items"][0]
    assert [hit["title"][s:e] for s, e in hit["title_highlights"]] == ["summit"]
    bad = api.get("/api/v1/articles", params={"q": "weather"}).json()["items"]
    assert bad and bad[0]["url"] is None, "a javascript: URL is never offered as a link"
    err = api.get("/api/v1/articles", params={"q": 'summit "astana'})
    assert err.status_code == 422 and err.json()["position"] == 7 and err.json()["code"] == "search_syntax"
    by_watch = api.get("/api/v1/articles", params={"watch_id": world["sco"]}).json()["items"]
    assert {h["id"] for h in by_watch} == set(world["ids"][:3])
    by_entity = api.get("/api/v1/articles", params={"entity": "Xi Jinping"}).json()["items"]
    assert {h["id"] for h in by_entity} == set(world["ids"][:2])
    # facets of a watch or an entity count the articles the pages list (PostgreSQL reads them by id arrays)
    for params in (
        {"watch_id": world["sco"]},
        {"entity": "Xi Jinping"},
        {"entity": "Xi Jinping", "q": "summit"},
    ):
        body = api.get("/api/v1/articles", params={**params, "facets": "true"}).json()
        assert body["facets"]["total"] == len(body["items"]) > 0, params
        assert sum(d["count"] for d in body["facets"]["days"]) == len(body["items"]), params
    assert api.get("/api/v1/articles", params={"watch_id": 999}).status_code == 404


def test_stories_group_copies_with_sources_languages_entities_and_a_timeline(
    api: TestClient, world: dict[str, Any]
) -> None:
    stories = api.get("/api/v1/stories", params={"hours": 48}).json()["items"]
    summit = next(s for s in stories if s["title"] == SUMMIT["title"])
    assert summit["articles"] == 2 and summit["sources"] == 2 and summit["languages"] == ["en"]
    assert {"Xi Jinping", "Vladimir Putin"} <= {e["name"] for e in summit["top_entities"]}
    assert summit["alerts"] == 2 and summit["first_seen"] <= summit["last_seen"]
    timeline = api.get(f"/api/v1/stories/{summit['id']}").json()
    assert timeline["story"] == summit  # figured from its own rows: the same as the list's
    assert [a["id"] for a in timeline["articles"]] == world["ids"][:2]
    kinds = [e["kind"] for e in timeline["events"]]
    assert kinds.count("article") == 2 and kinds.count("alert") == 2
    assert {e["watch"] for e in timeline["events"] if e["kind"] == "alert"} == {"SCO", "Summits"}
    assert api.get("/api/v1/stories/999999").status_code == 404
    assert api.get(f"/api/v1/stories/{2**63}").status_code == 422


def test_alerts_grouped_by_story_filtered_and_triaged(api: TestClient, world: dict[str, Any]) -> None:
    grouped = api.get("/api/v1/alerts/by-story").json()["items"]
    assert len(grouped) == 2, grouped  # the summit (two watches, two sources) and the SCO Group story
    summit = next(g for g in grouped if g["title"] == SUMMIT["title"])
    assert summit["watches"] == ["SCO", "Summits"] and summit["articles"] == 2
    alert = next(a for a in summit["alerts"] if a["watch"] == "SCO")
    assert [alert["snippet_text"][s:e] for s, e in alert["highlights"]], alert
    assert "**" not in alert["snippet_text"]

    def ids(**params: Any) -> set[int]:
        r = api.get("/api/v1/alerts", params=params)
        assert r.status_code == 200, r.text
        return {a["id"] for a in r.json()["items"]}

    every = ids()
    assert len(every) == 3
    assert len(ids(watch_id=world["sco"])) == 2
    assert ids(entity="Xi Jinping") == {a["id"] for a in summit["alerts"]}
    assert ids(story_id=summit["story_id"]) == {a["id"] for a in summit["alerts"]}
    assert ids(min_score=1000) == set()
    assert api.get("/api/v1/alerts", params={"entity": "Nobody"}).status_code == 422

    ack = api.post(f"/api/v1/alerts/{alert['id']}/acknowledge")
    assert ack.status_code == 200 and ack.json()["acknowledged_at"] is not None
    assert ids(acknowledged=True) == {alert["id"]} and alert["id"] not in ids(acknowledged=False)
    assert api.post("/api/v1/alerts/999999/acknowledge").status_code == 404


def test_a_false_positive_is_feedback_on_the_watch_and_shows_in_its_backtests(
    api: TestClient, world: dict[str, Any]
) -> None:
    group = api.get("/api/v1/alerts", params={"watch_id": world["sco"]}).json()["items"]
    wrong = next(a for a in group if "Linux" in a["title"])
    marked = api.post(f"/api/v1/alerts/{wrong['id']}/false-positive", json={"note": "the Unix company"})
    assert marked.status_code == 200, marked.text
    assert [f["article_id"] for f in marked.json()] == [world["ids"][2]]
    feedback = api.get(f"/api/v1/watches/{world['sco']}/feedback").json()
    assert feedback[0]["note"] == "the Unix company" and feedback[0]["title"].startswith("SCO Group")
    assert api.get("/api/v1/alerts", params={"false_positive": True}).json()["items"][0]["id"] == wrong["id"]

    stored = api.post(f"/api/v1/watches/{world['sco']}/backtest", json={"since": "2000-01-01"}).json()
    assert stored["false_positives_matched"] == 1
    assert [m["false_positive"] for m in stored["matches"] if m["article_id"] == world["ids"][2]] == [True]
    tuned = api.post(
        "/api/v1/watches/backtest",
        json={
            "query": '(SCO OR "Shanghai Cooperation") AND NOT Linux',
            "since": "2000-01-01",
            "watch_id": world["sco"],
        },
    ).json()
    assert tuned["false_positives"] == [
        {"article_id": world["ids"][2], "note": "the Unix company", "matched": False}
    ]
    assert tuned["false_positives_matched"] == 0 and tuned["total"] == 2

    undo = api.delete(f"/api/v1/alerts/{wrong['id']}/false-positive")
    assert undo.status_code == 200 and undo.json()["false_positive"] is False
    assert api.get(f"/api/v1/watches/{world['sco']}/feedback").json() == []


def test_feed_health_coverage_and_pipeline(api: TestClient, world: dict[str, Any]) -> None:
    from shared.db import session_scope
    from shared.models import Feed

    with session_scope() as session:
        session.add(Feed(url="https://tass.example/rss", title="TASS", country="RU", health="failing",
                         last_error="HTTP 503", consecutive_failures=4))  # fmt: skip
    health = api.get("/api/v1/feeds/health").json()
    assert health["states"] == {"failing": 1}
    assert health["items"][0]["last_error"] == "HTTP 503" and health["items"][0]["items_per_day"] == 0
    cover = api.get("/api/v1/feeds/coverage", params={"hours": 48}).json()
    assert cover["total"] == 4
    assert {c["key"]: c["count"] for c in cover["countries"]} == {"unknown": 3, "RU": 1}  # .org, .com, .ru
    assert cover["languages"][0] == {"key": "en", "count": 4}
    pipe = api.get("/api/v1/pipeline").json()
    assert pipe["stages"]["articles.processed"] == 4
    assert set(pipe["queues"]) == {"fetcher", "pipeline", "notifier"}
    stage = {s["stage"]: s for s in pipe["latency"]}
    assert stage["fetched_to_matched"]["count"] == 4 and stage["fetched_to_matched"]["p95"] is not None


DASHBOARD_ROUTES = [
    ("get", "/api/v1/articles"),
    ("get", "/api/v1/stories"),
    ("get", "/api/v1/stories/rising"),
    ("get", "/api/v1/stories/{story_id}"),
    ("get", "/api/v1/alerts"),
    ("get", "/api/v1/alerts/by-story"),
    ("get", "/api/v1/alerts/{alert_id}"),
    ("post", "/api/v1/alerts/{alert_id}/acknowledge"),
    ("post", "/api/v1/alerts/{alert_id}/false-positive"),
    ("delete", "/api/v1/alerts/{alert_id}/false-positive"),
    ("get", "/api/v1/watches/{watch_id}/feedback"),
    ("get", "/api/v1/entities"),
    ("get", "/api/v1/entities/rising"),
    ("get", "/api/v1/entities/{entity_id}/trend"),
    ("get", "/api/v1/feeds/health"),
    ("get", "/api/v1/feeds/coverage"),
    ("get", "/api/v1/pipeline"),
]


def _has_example(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> bool:
    """An example on the schema, or (a page of items) on what its properties hold."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("examples") or schema.get("example"):
        return True
    if schema.get("type") == "array":
        return _has_example(schema["items"], components, depth)
    if depth == 0 and schema.get("type") == "object":
        props = list((schema.get("properties") or {}).values())
        extra = schema.get("additionalProperties")
        return any(
            _has_example(p, components, 1) for p in props + ([extra] if isinstance(extra, dict) else [])
        )
    return False


def test_every_dashboard_route_documents_an_example(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    components = spec["components"]["schemas"]
    missing = []
    for method, path in DASHBOARD_ROUTES:
        ok = spec["paths"][path][method]["responses"]
        body = next(v for k, v in ok.items() if k.startswith("2"))
        schema = body["content"]["application/json"]["schema"]
        if not _has_example(schema, components):
            missing.append(f"{method.upper()} {path}")
    assert not missing, f"no example in the success response of {missing}"


def test_alerts_by_story_pages_list_every_story_once(api: TestClient, world: dict[str, Any]) -> None:
    first = api.get("/api/v1/alerts/by-story", params={"limit": 1}).json()
    assert len(first["items"]) == 1 and first["next_before"] is not None
    second = api.get("/api/v1/alerts/by-story", params={"limit": 1, "before": first["next_before"]}).json()
    assert len(second["items"]) == 1
    assert first["items"][0]["story_key"] != second["items"][0]["story_key"]
    third = api.get("/api/v1/alerts/by-story", params={"limit": 1, "before": second["next_before"]}).json()
    assert third["items"] == [] and third["next_before"] is None


def test_another_account_sees_the_shared_corpus_but_none_of_the_watch_side(
    api: TestClient, world: dict[str, Any]
) -> None:
    """Articles, stories and entities are shared; alerts, feedback and watch filters are the owner's."""
    made = api.post("/api/v1/keys", json={"name": "other", "scopes": ["write"]})
    assert made.status_code == 201, made.text
    other = {"Authorization": f"Bearer {made.json()['key']}"}
    assert len(api.get("/api/v1/articles", params={"q": "summit"}, headers=other).json()["items"]) == 2
    assert api.get("/api/v1/articles", params={"watch_id": world["sco"]}, headers=other).status_code == 404
    assert api.get("/api/v1/alerts/by-story", headers=other).json()["items"] == []
    story = next(s for s in api.get("/api/v1/stories", params={"hours": 48}).json()["items"] if s["alerts"])
    timeline = api.get(f"/api/v1/stories/{story['id']}", headers=other).json()
    assert [e["kind"] for e in timeline["events"]] == ["article"] * story["articles"]  # no alert of theirs
    assert timeline["story"]["alerts"] == 0  # nor a count of them
    theirs = api.get("/api/v1/stories", params={"hours": 48}, headers=other).json()["items"]
    assert next(s for s in theirs if s["id"] == story["id"])["alerts"] == 0
    alert_id = api.get("/api/v1/alerts").json()["items"][0]["id"]
    assert api.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=other).status_code == 404
    assert api.post(f"/api/v1/alerts/{alert_id}/false-positive", headers=other).status_code == 404
    assert api.get(f"/api/v1/watches/{world['sco']}/feedback", headers=other).status_code == 404
    draft = {"query": "SCO", "watch_id": world["sco"]}
    assert api.post("/api/v1/watches/backtest", json=draft, headers=other).status_code == 404


def test_aggregate_answers_are_cached_for_a_few_seconds_per_owner(
    api: TestClient, world: dict[str, Any]
) -> None:
    """Top entities, rising and story lists come from a short cache (NEWSWATCH_DASHBOARD_CACHE_SECONDS), kept
    apart per account: a new article shows after the TTL, and another account never reads the admin's."""
    from shared.config import get_settings
    from shared.insights.cache import ANSWERS

    cached = get_settings().model_copy(update={"dashboard_cache_seconds": 600})
    api.app.dependency_overrides[get_settings] = lambda: cached  # type: ignore[attr-defined]
    ANSWERS.clear()
    try:
        before = api.get("/api/v1/stories", params={"hours": 48}).json()["items"]
        more = {
            "title": "Astana summit closes",
            "text": "Xi Jinping left Astana.",
            "url": "https://c.example/x",
        }
        pushed = api.post("/api/v1/articles", json=more)
        assert pushed.status_code == 202
        from shared.db import session_scope
        from shared.pipeline import service

        new_ids = pushed.json()["ids"]
        service.process_batch(sessions=session_scope, article_ids=new_ids, settings=get_settings())
        assert api.get("/api/v1/stories", params={"hours": 48}).json()["items"] == before  # within the TTL
        made = api.post("/api/v1/keys", json={"name": "other", "scopes": ["read"]}).json()
        other = {"Authorization": f"Bearer {made['key']}"}
        theirs = api.get("/api/v1/stories", params={"hours": 48}, headers=other).json()["items"]
        assert len(theirs) == len(before) + 1 and all(s["alerts"] == 0 for s in theirs)  # their own entry
        ANSWERS.clear()
        assert len(api.get("/api/v1/stories", params={"hours": 48}).json()["items"]) == len(before) + 1
    finally:
        api.app.dependency_overrides.pop(get_settings, None)  # type: ignore[attr-defined]
        ANSWERS.clear()
