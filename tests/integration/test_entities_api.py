"""Entities API over real processing: pushed articles → pipeline → mentions → top, detail, co-occurrence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
ARTICLES = [
    {
        "title": "Putin and Xi meet at SCO summit",
        "text": "Russian President Vladimir Putin met Xi Jinping in Astana. Putin praised the SCO. "
        "John Examplesson of the Acme Widget Council also spoke.",
        "url": "https://news.example/a1",
        "published": (NOW - timedelta(hours=2)).isoformat(),
    },
    {
        "title": "Путин прибыл в Астану",
        "text": "Владимир Путин прибыл в Астану на саммит ШОС. Президент Казахстана встретил гостя.",
        "url": "https://news.example/a2",
        "published": (NOW - timedelta(hours=1)).isoformat(),
    },
    {
        "title": "普京会见莫迪",
        "text": "俄罗斯总统普京在阿斯塔纳会见印度总理莫迪。",
        "url": "https://news.example/a3",
        "published": (NOW - timedelta(days=3)).isoformat(),
    },
]


@pytest.fixture()
def processed(api: TestClient) -> list[int]:
    from shared.config import get_settings
    from shared.db import session_scope
    from shared.pipeline import service

    resp = api.post("/api/v1/articles", json={"articles": ARTICLES})
    assert resp.status_code == 202, resp.text
    ids = resp.json()["ids"]
    service.process_batch(sessions=session_scope, article_ids=ids, settings=get_settings())
    return ids


def test_mentions_are_stored_for_every_processed_article(api: TestClient, processed: list[int]) -> None:
    from shared.db import session_scope
    from shared.nlp import store

    with session_scope() as session:
        for article_id in processed:
            rows = store.for_article(session=session, article_id=article_id)
            assert any(e.kb_id == "Q7747" for _, e in rows), article_id


def test_top_entities_window_type_and_linked_filters(api: TestClient, processed: list[int]) -> None:
    top = api.get("/api/v1/entities", params={"hours": 24 * 7}).json()["items"]
    assert top[0]["kb_id"] == "Q7747" and top[0]["articles"] == 3 and top[0]["label"] == "PERSON"
    day = api.get("/api/v1/entities", params={"hours": 24, "type": "PERSON"}).json()["items"]
    by_kb = {e["kb_id"]: e for e in day}
    assert by_kb["Q7747"]["articles"] == 2  # the Chinese article is three days old
    assert all(e["label"] == "PERSON" for e in day)
    unlinked = api.get("/api/v1/entities", params={"hours": 24, "linked": "false"}).json()["items"]
    assert unlinked and all(not e["linked"] and e["kb_id"] is None for e in unlinked)
    assert any(e["name"] == "John Examplesson" for e in unlinked)
    places = api.get("/api/v1/entities", params={"hours": 24 * 7, "type": "PLACE", "linked": "true"}).json()
    assert places["items"][0]["kb_id"] == "Q1520" and places["items"][0]["articles"] == 3
    # a type keeps exactly the entities of that type, counted and ordered as without it
    every = api.get("/api/v1/entities", params={"hours": 24 * 7, "limit": 200}).json()["items"]
    assert {"PERSON", "PLACE", "ORG"} <= {e["label"] for e in every}
    for label in ("PERSON", "PLACE", "ORG"):
        typed = api.get("/api/v1/entities", params={"hours": 24 * 7, "type": label, "limit": 200}).json()
        assert typed["items"] == [e for e in every if e["label"] == label], label


def test_entity_detail_aliases_offices_and_counts(api: TestClient, processed: list[int]) -> None:
    detail = api.get("/api/v1/entities/Q7747", params={"hours": 24 * 7, "bucket": "day"})
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["name"] == "Vladimir Putin" and "Путин" in body["aliases"]["ru"]
    assert {"president-of-russia", "prime-minister-of-russia"} <= {o["office_id"] for o in body["offices"]}
    assert sum(c["mentions"] for c in body["counts"]) == body["mentions"] >= 5
    hourly = api.get(f"/api/v1/entities/{body['id']}", params={"hours": 24, "bucket": "hour"}).json()
    assert len(hourly["counts"]) == 2
    # The office title in the Russian article resolves to the holder on the publication day.
    tokayev = api.get("/api/v1/entities/kassym-jomart-tokayev").json()
    assert tokayev["mentions"] == 1
    assert api.get("/api/v1/entities/Q999999999").status_code == 404


def test_cooccurrence(api: TestClient, processed: list[int]) -> None:
    body = api.get("/api/v1/entities/Q7747/cooccurrence", params={"hours": 24 * 7}).json()
    assert body["entity"]["kb_id"] == "Q7747"
    counts = {e["kb_id"]: e["articles"] for e in body["items"]}
    assert counts["Q1520"] == 3  # Astana in all three
    assert counts["Q15031"] == 1 and counts["sco"] == 2
    assert "Q7747" not in counts
    people = api.get("/api/v1/entities/Q7747/cooccurrence", params={"hours": 24 * 7, "type": "PERSON"}).json()
    assert {e["label"] for e in people["items"]} == {"PERSON"}
    assert api.get("/api/v1/entities/123456/cooccurrence").status_code == 404


def test_entities_require_a_key(api: TestClient) -> None:
    assert api.get("/api/v1/entities", headers={"Authorization": ""}).status_code == 401
