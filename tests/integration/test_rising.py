"""Rising entities and stories (a Poisson test against their own past, with a minimum count) on PostgreSQL
and SQLite, zero-filled trend buckets, and trend.rising events: opt-in, once per window, capped, signed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session

from shared.insights import entities, stories
from shared.insights.stats import poisson_upper_tail, surprise
from tests.support.corpus import NOW, add_articles

pytestmark = pytest.mark.integration
WINDOW = 3600
ARGS = {"until": NOW, "window_seconds": WINDOW, "baseline_windows": 6, "min_count": 5, "max_p": 0.001}


def _corpus() -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = []
    for h in range(1, 7):  # one Xi article and two Putin articles in each of the six earlier windows
        specs.append({"title": f"xi {h}", "hours_ago": h + 0.5, "entities": [("PERSON", "Xi Jinping")]})
        for k in range(2):
            specs.append({"title": f"putin {h} {k}", "hours_ago": h + 0.3 + k / 10,
                          "entities": [("PERSON", "Vladimir Putin")], "story": 600})  # fmt: skip
    for i in range(8):  # the last window: Xi jumps to 8, Putin stays at 2, Tiny appears 3 times
        specs.append({"title": f"xi now {i}", "hours_ago": 0.05 + i / 10, "story": 500,
                      "entities": [("PERSON", "Xi Jinping")],
                      "url": f"https://s{i}.example.cn/{i}"})  # fmt: skip
    for k in range(2):
        specs.append({"title": f"putin now {k}", "hours_ago": 0.5 + k / 10,
                      "entities": [("PERSON", "Vladimir Putin")], "story": 600})  # fmt: skip
    for i in range(3):
        specs.append({"title": f"tiny {i}", "hours_ago": 0.2 + i / 10, "entities": [("ORG", "Tiny Org")]})
    return specs


@pytest.fixture()
def session(session: Session) -> Session:
    """The conftest's session on each database, holding this file's corpus."""
    add_articles(session, _corpus())
    return session


def test_the_poisson_tail_and_the_pseudo_count() -> None:
    assert poisson_upper_tail(0, 3.0) == 1.0
    assert poisson_upper_tail(1, 2.0) == pytest.approx(1 - 2.718281828**-2)
    never_seen = surprise(5, [0] * 24, min_count=5, max_p=0.001)
    assert never_seen.expected == pytest.approx(1 / 24) and never_seen.rising
    assert not surprise(4, [0] * 24, min_count=5, max_p=0.001).rising  # below the minimum count
    assert not surprise(9, [8, 10, 9, 11], min_count=5, max_p=0.001).rising  # its usual level


def test_only_the_entity_above_its_own_past_rises(session: Session) -> None:
    found = entities.rising_entities(session=session, **ARGS)  # type: ignore[arg-type]
    assert [r.name for r in found] == ["Xi Jinping"]
    xi = found[0]
    assert xi.test.count == 8 and xi.test.mean == 1.0 and xi.test.p_value < 1e-4
    assert xi.sources == 8 and xi.window_start == NOW - timedelta(seconds=WINDOW)
    # an hour earlier nothing stood out
    earlier = {**ARGS, "until": NOW - timedelta(hours=1)}
    assert entities.rising_entities(session=session, **earlier) == []  # type: ignore[arg-type]


def test_a_new_story_with_many_articles_rises_and_a_steady_one_does_not(session: Session) -> None:
    found = stories.rising_stories(session=session, **ARGS)  # type: ignore[arg-type]
    assert [r.id for r in found] == [500]
    assert found[0].test.count == 8 and found[0].name == "xi now 0" and found[0].languages == ["en"]


def test_trend_buckets_are_zero_filled(session: Session) -> None:
    from shared.search.service import resolve_entities

    ids = resolve_entities(session=session, ref="Xi Jinping")
    buckets = entities.trend(
        session=session, entity_ids=ids, since=NOW - timedelta(hours=8), until=NOW, bucket="hour"
    )
    assert len(buckets) == 8
    assert [b.articles for b in buckets] == [0, 1, 1, 1, 1, 1, 1, 8]


def test_trend_events_go_once_per_window_to_subscriptions_that_ask_and_are_signed(
    clean_db: str, api: Any, server: Any
) -> None:
    from shared.alerts import outbox
    from shared.config import get_settings
    from shared.db import get_engine, session_scope
    from shared.insights.events import fire_trend_events
    from shared.models import Delivery
    from tests.support.webhooks import Receiver, subscribe

    with Session(get_engine(), expire_on_commit=False) as s:
        add_articles(s, _corpus())
    receiver = Receiver()
    server.routes["/trends"] = receiver
    sub_id, receiver.secret = subscribe(api, server.url("/trends"), event_types=["trend.rising"])
    default_id, _ = subscribe(api, server.url("/alerts-only"))  # default event types: no trend events
    settings = get_settings().model_copy(
        update={"trend_window_seconds": WINDOW, "trend_baseline_windows": 6, "trend_min_count": 5}
    )
    now = NOW - timedelta(minutes=1)  # inside the aligned window [11:00, 12:00)
    with session_scope() as s:
        first = fire_trend_events(session=s, settings=settings, now=now)
    assert len(first) == 2  # Xi Jinping and story 500
    with session_scope() as s:
        assert fire_trend_events(session=s, settings=settings, now=now + timedelta(seconds=30)) == []
        subs = {d.subscription_id for d in s.exec(Delivery.__table__.select()).all()}  # type: ignore[attr-defined]
    assert subs == {sub_id} and default_id not in subs
    for did in first:
        assert (
            outbox.deliver(delivery_id=did, settings=settings, session_factory=session_scope).status == "sent"
        )
    assert receiver.rejected == [] and len(receiver.verified) == 2
    kinds = sorted(v["body"]["data"]["kind"] for v in receiver.verified)
    assert kinds == ["entity", "story"] and receiver.verified[0]["body"]["type"] == "trend.rising"


def test_trend_events_are_capped_per_window(clean_db: str) -> None:
    from shared.config import get_settings
    from shared.db import get_engine, session_scope
    from shared.insights.events import fire_trend_events
    from shared.models import TrendEvent

    with Session(get_engine(), expire_on_commit=False) as s:
        add_articles(s, _corpus())
    settings = get_settings().model_copy(
        update={
            "trend_window_seconds": WINDOW,
            "trend_baseline_windows": 6,
            "trend_min_count": 5,
            "trend_max_events_per_window": 1,
        }
    )
    now = NOW - timedelta(minutes=1)
    with session_scope() as s:
        fire_trend_events(session=s, settings=settings, now=now)
        fire_trend_events(session=s, settings=settings, now=now)
    with session_scope() as s:
        assert len(s.exec(TrendEvent.__table__.select()).all()) == 1  # type: ignore[attr-defined]
