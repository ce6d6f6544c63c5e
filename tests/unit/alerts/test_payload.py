import json
from datetime import UTC, datetime, timedelta

from shared.alerts import payload as p

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _facts() -> p.AlertFacts:
    art = p.ArticleRef(
        id=11,
        url="https://news.example/a?utm=1",
        canonical_url="https://news.example/a",
        title="SCO summit opens in Tianjin",
        source_feed="https://news.example/rss",
        language="en",
        published=T0,
        fetched=T0 + timedelta(seconds=30),
    )
    return p.AlertFacts(
        alert_id=5,
        watch=p.WatchRef(id=2, name="SCO", rule_version=3),
        article=art,
        score=0.87,
        story_id="s-1",
        terms=[p.MatchedTerm("SCO", "title", 0, 3, "SCO summit opens")],
        entities=[p.EntityRef("Tianjin", "PLACE", "Tianjin", "Q11736")],
        matched_at=T0 + timedelta(seconds=31),
    )


def test_alert_data_has_every_listed_field() -> None:
    d = p.alert_data(_facts())
    assert d["alert_id"] == 5 and d["watch"] == {"id": 2, "name": "SCO", "rule_version": 3}
    assert set(d["article"]) == {
        "id",
        "url",
        "canonical_url",
        "title",
        "source_feed",
        "language",
        "published",
        "fetched",
    }
    assert d["matched_terms"][0] == {
        "term": "SCO",
        "field": "title",
        "start": 0,
        "end": 3,
        "snippet": "SCO summit opens",
    }
    assert d["entities"][0]["canonical"] == "Tianjin"
    assert d["score"] == 0.87 and d["story_id"] == "s-1"
    assert d["latency"]["published_to_fetched_ms"] == 30_000
    assert d["latency"]["fetched_to_matched_ms"] == 1_000
    json.dumps(d)


def test_render_fills_sent_latency_and_envelope() -> None:
    d = p.alert_data(_facts())
    body = json.loads(p.render(p.ALERT_CREATED, d, sent_at=T0 + timedelta(seconds=32)))
    assert body["type"] == "alert.created" and body["timestamp"] == "2026-01-01T12:00:32Z"
    assert body["data"]["latency"]["matched_to_sent_ms"] == 1_000
    assert d["latency"]["sent"] is None  # the stored data is not mutated


def test_other_events() -> None:
    assert p.feed_unhealthy_data(feed_id=1, url="u", reason="404")["feed"] == {"id": 1, "url": "u"}
    e = p.endpoint_disabled_data(subscription_id=3, url="https://x", reason="410", disabled_at=T0)
    assert e["disabled_at"] == "2026-01-01T12:00:00Z"
    assert json.loads(p.render(p.PING, p.ping_data(subscription_id=3)))["type"] == "ping"


def test_format_message_for_humans() -> None:
    title, body = p.format_message(p.ALERT_CREATED, p.alert_data(_facts()))
    assert title == "[SCO] New match: SCO summit opens in Tianjin"
    assert "https://news.example/a" in body and "Matched: SCO" in body and "Tianjin" in body
    upd = p.alert_data(
        p.AlertFacts(
            **{**_facts().__dict__, "new_sources": [p.ArticleRef(id=12, url="https://ru.example/b")]}
        )
    )
    title, body = p.format_message(p.ALERT_UPDATED, upd)
    assert title.startswith("[SCO] Story update") and "https://ru.example/b" in body
    for kind, data in [
        (p.FEED_UNHEALTHY, p.feed_unhealthy_data(feed_id=1, url="u", reason="r")),
        (p.ENDPOINT_DISABLED, p.endpoint_disabled_data(subscription_id=1, url="u", reason="r")),
        (p.PING, p.ping_data(subscription_id=1)),
    ]:
        t, b = p.format_message(kind, data)
        assert t and b
