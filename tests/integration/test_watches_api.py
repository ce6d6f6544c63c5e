"""Watches as a product: validate, backtest (API and CLI), entity operators through the pipeline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from services import backtest_cli
from shared.config import get_settings
from shared.db import session_scope
from shared.models import Article, Match
from shared.models.base import utcnow

pytestmark = pytest.mark.integration


def _article(n: int, title: str, text: str = "", *, when: datetime | None = None) -> int:
    with session_scope() as s:
        a = Article(
            canonical_url=f"http://127.0.0.1/watches/{n}",
            title=title,
            text=text,
            language="en",
            published_at=when,
            status="processed",
        )
        s.add(a)
        s.flush()
        return a.id or 0


def test_validate_gives_canonical_form_terms_and_warnings(api: TestClient) -> None:
    r = api.post("/api/v1/watches/validate", json={"query": 'sco  summit or "Shanghai Cooperation" the'})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["valid"] is True
    # Lower-case `or` is a word, not an operator: the canonical form shows it, a warning says so.
    assert body["canonical"] == 'sco AND summit AND or AND "Shanghai Cooperation" AND the'
    assert body["terms"] == ["sco", "summit", "or", "Shanghai Cooperation", "the"]
    warnings = " ".join(body["warnings"])
    assert "'or' is searched as a word" in warnings
    assert "'the'" in warnings and "common" in warnings


def test_validate_flags_terms_common_in_recent_articles(api: TestClient) -> None:
    for i in range(30):
        _article(100 + i, f"Summit news {i}", "Leaders met at the summit." if i % 2 else "Markets fell.")
    warnings = api.post("/api/v1/watches/validate", json={"query": "summit AND Astana"}).json()["warnings"]
    assert warnings == [
        "term 'summit' occurs in 100% of the 30 most recent articles: on its own it will flood"
    ]
    assert api.post("/api/v1/watches/validate", json={"query": "Astana"}).json()["warnings"] == []


def test_validate_refuses_with_position_and_expected(api: TestClient) -> None:
    r = api.post("/api/v1/watches/validate", json={"query": "SCO AND (summit OR"})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "rule_syntax"
    assert body["position"] == 18 and "a term" in body["expected"] and "position 18" in body["detail"]
    r = api.post("/api/v1/watches/validate", json={"query": "(summit OR SCO"})
    assert r.status_code == 422 and "')'" in r.json()["expected"]
    r = api.post("/api/v1/watches/validate", json={"query": "a* OR summit"})
    assert r.status_code == 422 and r.json()["position"] == 0


def test_backtest_draft_counts_per_day_and_paginates(api: TestClient) -> None:
    now = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    days = [now - timedelta(days=d) for d in (1, 1, 2, 5)]
    ids = [
        _article(i, f"SCO summit day {i}", "Leaders met at the SCO summit.", when=d)
        for i, d in enumerate(days)
    ]
    _article(10, "Scotland votes", "Nothing about the organisation.", when=now - timedelta(days=1))
    _article(11, "SCO summit long ago", "An old SCO summit.", when=now - timedelta(days=90))

    r = api.post("/api/v1/watches/backtest", json={"query": "SCO AND summit"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 4 and body["scanned"] == 5  # the 90-day-old article is outside 30 days
    day = lambda d: d.astimezone(UTC).date().isoformat()  # noqa: E731
    assert body["per_day"] == {day(days[3]): 1, day(days[2]): 1, day(days[0]): 2}
    assert [m["article_id"] for m in body["matches"]] == ids
    first = body["matches"][0]
    assert "**SCO**" in first["snippet"] and {t["term"] for t in first["terms"]} == {"SCO", "summit"}

    page = api.post("/api/v1/watches/backtest?limit=2&offset=2", json={"query": "SCO AND summit"}).json()
    assert [m["article_id"] for m in page["matches"]] == ids[2:] and page["total"] == 4

    since = (now - timedelta(days=100)).date().isoformat()
    until = (now - timedelta(days=80)).date().isoformat()
    old = api.post("/api/v1/watches/backtest", json={"query": "SCO", "since": since, "until": until}).json()
    assert old["total"] == 1 and old["matches"][0]["title"] == "SCO summit long ago"


def test_backtest_errors(api: TestClient) -> None:
    r = api.post("/api/v1/watches/backtest", json={"query": "SCO NEAR summit"})
    assert r.status_code == 422 and r.json()["position"] == 4
    r = api.post("/api/v1/watches/backtest", json={"query": "SCO", "since": "yesterday"})
    assert r.status_code == 422 and "ISO date" in r.json()["detail"]
    assert r.json()["code"] == "invalid_window"
    assert api.post("/api/v1/watches/999/backtest", json={}).status_code == 404


def test_backtest_stored_watch(api: TestClient) -> None:
    _article(1, "RATS meeting in Tashkent", when=utcnow() - timedelta(days=3))
    _article(2, "Rats in the kitchen", when=utcnow() - timedelta(days=3))
    w = api.post("/api/v1/watches", json={"name": "rats", "query": "RATS"}).json()
    body = api.post(f"/api/v1/watches/{w['id']}/backtest").json()
    assert body["total"] == 1 and body["matches"][0]["title"] == "RATS meeting in Tashkent"


def test_backtest_cli(api: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    _article(1, "SCO summit opens", when=utcnow() - timedelta(days=2))
    assert backtest_cli.main(["--query", "SCO", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total"] == 1 and out["matches"][0]["title"] == "SCO summit opens"

    w = api.post("/api/v1/watches", json={"name": "sco", "query": "SCO AND summit"}).json()
    assert backtest_cli.main(["--watch", str(w["id"])]) == 0
    assert "matched: 1 of 1 articles" in capsys.readouterr().out

    assert backtest_cli.main(["--query", "SCO AND (summit"]) == 2
    err = capsys.readouterr().err
    assert "position 15" in err and "^" in err
    assert backtest_cli.main(["--watch", "999"]) == 2


def test_office_operator_through_the_pipeline(api: TestClient) -> None:
    """office:"President of Russia" finds an article naming Putin, published while he held the office."""
    from shared.pipeline.service import process_batch

    r = api.post("/api/v1/watches", json={"name": "kremlin", "query": 'office:"President of Russia"'})
    assert r.status_code == 201, r.text
    text = "Vladimir Putin met Xi Jinping in Beijing on Thursday to discuss trade and the SCO."
    in_office = datetime(2024, 5, 16, 9, 0, tzinfo=UTC)
    before = datetime(1995, 5, 16, 9, 0, tzinfo=UTC)  # Putin was not president then
    with session_scope() as s:
        arts = [
            Article(
                canonical_url=f"http://127.0.0.1/putin/{i}",
                title="Talks in Beijing",
                text=text,
                published_at=when,
                language="en",
            )
            for i, when in enumerate((in_office, before))
        ]
        s.add_all(arts)
        s.flush()
        ids = [a.id or 0 for a in arts]
    with session_scope() as s:
        process_batch(session=s, article_ids=ids, settings=get_settings())
    with session_scope() as s:
        matched = [m.article_id for m in s.exec(select(Match))]
    assert matched == [ids[0]]
    body = api.post(
        "/api/v1/watches/backtest",
        json={"query": 'office:"President of Russia"', "since": "1990-01-01", "until": "2030-01-01"},
    ).json()
    assert body["total"] == 1 and body["matches"][0]["article_id"] == ids[0]


def test_engine_cache_recompiles_when_the_rule_set_moves(api: TestClient) -> None:
    """One process, one cache: a new watch is in the next engine it hands out, no restart needed."""
    from shared.rules import MatchDocument
    from shared.rules.service import EngineCache

    cache = EngineCache()
    api.post("/api/v1/watches", json={"name": "A", "query": "SCO"})
    with session_scope() as s:
        first = cache.get(session=s, resolver=None)
        assert cache.get(session=s, resolver=None) is first  # same version: compiled once
    api.post("/api/v1/watches", json={"name": "B", "query": "BRICS"})
    with session_scope() as s:
        second = cache.get(session=s, resolver=None)
    assert second is not first
    hits = second.match(MatchDocument(title="SCO and BRICS leaders meet", text=""))
    assert [m.watch_name for m in hits] == ["A", "B"]
    api.patch(f"/api/v1/watches/{hits[1].watch_id}", json={"enabled": False})
    with session_scope() as s:
        third = cache.get(session=s, resolver=None)
    assert [m.watch_name for m in third.match(MatchDocument(title="SCO and BRICS", text=""))] == ["A"]
