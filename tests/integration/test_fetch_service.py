"""The fetch service against real PostgreSQL, Redis and a 127.0.0.1 server: dedup across feeds, stories,
conditional GET, health and feed.unhealthy, full-text extraction, sitemaps, politeness and WebSub."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import redis
from fastapi.testclient import TestClient
from sqlmodel import select

from shared.alerts.service import feed_unhealthy
from shared.config import get_settings
from shared.db import session_scope
from shared.fetching import events, push, service
from shared.fetching.politeness import RedisHostLimiter
from shared.models import Article, ArticleSource, Delivery, Feed
from shared.models.feed import FeedEvent
from tests.support.servers import LocalServer, Request, rss

pytestmark = pytest.mark.integration

WIRE = (
    "Foreign ministers of the Shanghai Cooperation Organisation met in Tashkent on Friday to prepare the "
    "summit, discussing transport corridors, counter-terrorism cooperation, the situation in Afghanistan "
    "and applications from several countries that want to join the organisation as observers or partners."
)
RSS = {"content-type": "application/rss+xml"}


@pytest.fixture(autouse=True)
def _alerts_hear_feed_health() -> Iterator[None]:
    """As the fetcher tasks do at start-up: alerts listen to fetching's feed.unhealthy."""
    events.listen(feed_unhealthy)
    yield
    events.forget(feed_unhealthy)


def _feed(url: str, **extra: object) -> int:
    with session_scope() as session:
        feed = service.create_feed(session=session, url=url, settings=get_settings(), **extra)
        assert feed.id is not None
        return feed.id


def _fetch(feed_id: int, **kw: object) -> service.FetchOutcome:
    return service.fetch_feed(feed_id=feed_id, settings=get_settings(), session_factory=session_scope, **kw)  # type: ignore[arg-type]


def test_one_article_through_two_feeds_is_stored_once_and_copies_share_a_story(
    clean_db: str, server: LocalServer
) -> None:
    server.routes["/a.xml"] = (200, RSS, rss([
        {"title": "SCO ministers meet", "link": "https://news.example/sco-1?utm_source=rss", "guid": "a1",
         "description": WIRE},
    ]))  # fmt: skip
    server.routes["/b.xml"] = (200, RSS, rss([
        {"title": "SCO ministers meet", "link": "http://www.news.example/sco-1/#top", "guid": "b1",
         "description": WIRE},
        {"title": "Ministers gather in Tashkent", "link": "https://wire.example/x/99", "guid": "b2",
         "description": WIRE + " More details will follow."},
    ]))  # fmt: skip
    a, b = _feed(server.url("/a.xml")), _feed(server.url("/b.xml"))
    assert len(_fetch(a).new_article_ids) == 1
    assert len(_fetch(b).new_article_ids) == 1  # the copy under another URL form is not new
    with session_scope() as session:
        arts = list(session.exec(select(Article).order_by(Article.id)))
        assert [x.canonical_url for x in arts] == ["https://news.example/sco-1", "https://wire.example/x/99"]
        sources = {(s.article_id, s.feed_id) for s in session.exec(select(ArticleSource))}
        assert sources == {(arts[0].id, a), (arts[0].id, b), (arts[1].id, b)}
        assert arts[0].story_id == arts[0].id and arts[1].story_id == arts[0].id
        assert arts[0].minhash is not None


def test_conditional_get_and_adaptive_interval(clean_db: str, server: LocalServer) -> None:
    now = datetime.now(UTC)
    items = [
        {"title": f"Item {i}", "link": f"https://news.example/{i}", "guid": f"g{i}", "description": "x",
         "pubDate": (now - timedelta(hours=2 * i)).strftime("%a, %d %b %Y %H:%M:%S GMT")}
        for i in range(5)
    ]  # fmt: skip

    def handler(req: Request) -> tuple[int, dict[str, str], bytes]:
        if req.headers.get("if-none-match") == '"v1"':
            return 304, {}, b""
        return 200, {**RSS, "etag": '"v1"'}, rss(items)

    server.routes["/feed.xml"] = handler
    fid = _feed(server.url("/feed.xml"))
    first = _fetch(fid)
    assert len(first.new_article_ids) == 5 and first.health == "ok"
    second = _fetch(fid)
    assert second.not_modified and second.new_article_ids == []
    with session_scope() as session:
        feed = session.get(Feed, fid)
        assert feed is not None and feed.etag == '"v1"'
        assert feed.usual_gap_seconds == 7200 and feed.interval_seconds == 3600  # half the 2-hour rhythm
        assert feed.last_status == 304


def test_failures_back_off_and_failing_emits_one_stored_and_delivered_event(
    api: TestClient, server: LocalServer
) -> None:
    server.routes["/down.xml"] = (503, {"retry-after": "7200"}, b"maintenance")
    fid = _feed(server.url("/down.xml"))
    sub = {"url": server.url("/hook"), "event_types": ["feed.unhealthy"]}
    assert api.post("/api/v1/subscriptions", json=sub).status_code == 201
    outcomes = [_fetch(fid) for _ in range(4)]
    assert [o.health for o in outcomes] == ["degraded", "degraded", "failing", "failing"]
    assert outcomes[2].delivery_ids and not outcomes[3].delivery_ids
    with session_scope() as session:
        feed = session.get(Feed, fid)
        assert feed is not None and feed.consecutive_failures == 4 and "503" in (feed.last_error or "")
        assert feed.next_fetch_at.replace(tzinfo=UTC) >= datetime.now(UTC) + timedelta(seconds=7000)
        events = list(session.exec(select(FeedEvent)))
        assert [(e.type, e.health) for e in events] == [("feed.unhealthy", "failing")]
        deliveries = list(session.exec(select(Delivery)))
        assert len(deliveries) == 1 and deliveries[0].event_type == "feed.unhealthy"
    server.routes["/down.xml"] = (
        200,
        RSS,
        rss([{"title": "Back", "link": "https://n.example/1", "guid": "1"}]),
    )
    assert _fetch(fid).health == "ok"
    with session_scope() as session:
        assert [e.type for e in session.exec(select(FeedEvent).order_by(FeedEvent.id))] == [
            "feed.unhealthy", "feed.recovered",
        ]  # fmt: skip


PAGE = (
    "<html lang='en'><head><title>Summit ends</title><meta name='author' content='Jane Roe'></head><body>"
    "<article><h1>Summit ends</h1><p>" + ("Leaders of the Shanghai Cooperation Organisation ended their "
    "meeting with a joint statement on security and trade. ") * 8 + "</p></article></body></html>"
).encode()  # fmt: skip


def test_full_text_extraction_per_feed_setting_keeps_summary_on_failure(
    clean_db: str, server: LocalServer
) -> None:
    server.routes["/teasers.xml"] = (200, RSS, rss([
        {"title": "Summit ends", "link": server.url("/story/1"), "guid": "s1", "description": "Teaser."},
        {"title": "Broken", "link": server.url("/story/404"), "guid": "s2", "description": "Kept teaser."},
    ]))  # fmt: skip
    server.routes["/story/1"] = (200, {"content-type": "text/html; charset=utf-8"}, PAGE)
    fid = _feed(server.url("/teasers.xml"), extract_full_text=True)
    assert len(_fetch(fid).new_article_ids) == 2
    with session_scope() as session:
        arts = {a.title: a for a in session.exec(select(Article))}
    full = arts["Summit ends"]
    assert "joint statement on security" in full.text and full.author == "Jane Roe" and full.language == "en"
    assert arts["Broken"].text == "Kept teaser."


def test_news_sitemap_is_a_feed_kind(clean_db: str, server: LocalServer) -> None:
    sitemap = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
 <url><loc>{server.url("/story/1")}</loc><news:news><news:publication><news:name>Ex</news:name>
 <news:language>en</news:language></news:publication>
 <news:publication_date>2025-05-31T08:00:00+00:00</news:publication_date>
 <news:title>Summit ends</news:title></news:news></url></urlset>""".encode()
    server.routes["/sitemap.xml"] = (200, {"content-type": "application/xml"}, sitemap)
    server.routes["/story/1"] = (200, {"content-type": "text/html"}, PAGE)
    fid = _feed(server.url("/sitemap.xml"), kind="sitemap")
    assert len(_fetch(fid).new_article_ids) == 1
    with session_scope() as session:
        art = session.exec(select(Article)).one()
    assert art.title == "Summit ends" and "joint statement" in art.text
    assert art.published_at is not None and art.published_at.replace(tzinfo=UTC) == datetime(
        2025, 5, 31, 8, tzinfo=UTC
    )


def test_busy_host_defers_the_feed_instead_of_blocking(
    clean_db: str, server: LocalServer, redis_client: redis.Redis
) -> None:
    server.routes["/f.xml"] = (200, RSS, rss([]))
    fid = _feed(server.url("/f.xml"))
    limiter = RedisHostLimiter(redis_client, max_concurrent=1, min_gap=0, prefix="t")
    held = limiter.acquire("127.0.0.1")
    assert held is not None
    outcome = _fetch(fid, limiter=limiter)
    assert outcome.deferred and server.received("/f.xml") == []
    limiter.release("127.0.0.1", held)
    assert not _fetch(fid, limiter=limiter).deferred and len(server.received("/f.xml")) == 1


def test_websub_subscribe_verify_and_signed_push(api: TestClient, server: LocalServer) -> None:
    server.routes["/hub"] = (202, {}, b"")
    feed_xml = (
        b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>Pushy</title>"
        b"<link rel='hub' href='" + server.url("/hub").encode() + b"'/>"
        b"<link rel='self' href='https://pushy.example/feed'/></feed>"
    )
    server.routes["/atom.xml"] = (200, {"content-type": "application/atom+xml"}, feed_xml)
    fid = _feed(server.url("/atom.xml"))
    assert _fetch(fid).websub_subscribe
    settings = get_settings().model_copy(update={"public_url": "https://newswatch.example"})
    with session_scope() as session:
        assert push.subscribe(session=session, feed_id=fid, settings=settings) == "pending"
        feed = session.get(Feed, fid)
        assert feed is not None
        token, secret = feed.websub_token, push.feed_secret(feed, settings)
    form = parse_qs(server.received("/hub", "POST")[0].body.decode())
    assert form["hub.callback"] == [f"https://newswatch.example/websub/{fid}/{token}"]
    assert form["hub.topic"] == ["https://pushy.example/feed"] and form["hub.secret"] == [secret]

    q = {"hub.mode": "subscribe", "hub.topic": "https://pushy.example/feed", "hub.challenge": "c123",
         "hub.lease_seconds": "86400"}  # fmt: skip
    assert api.get(f"/websub/{fid}/wrong-token", params=q).status_code == 404
    assert api.get(f"/websub/{fid}/{token}", params={**q, "hub.topic": "https://evil/"}).status_code == 404
    r = api.get(f"/websub/{fid}/{token}", params=q)
    assert r.status_code == 200 and r.text == "c123"
    with session_scope() as session:
        feed = session.get(Feed, fid)
        assert feed is not None and feed.websub_state == "verified" and feed.websub_renew_at is not None

    pushed = (
        b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>Pushy</title><entry>"
        b"<id>urn:p:1</id><title>Pushed SCO news</title><link href='https://pushy.example/1'/>"
        b"<summary>Leaders met.</summary></entry></feed>"
    )
    sig = "sha256=" + hmac.new(secret.encode(), pushed, hashlib.sha256).hexdigest()
    headers = {"content-type": "application/atom+xml"}
    bad = api.post(
        f"/websub/{fid}/{token}", content=pushed, headers={**headers, "x-hub-signature": "sha256=00"}
    )
    assert bad.status_code == 202 and bad.json() == {"accepted": 0}
    good = api.post(f"/websub/{fid}/{token}", content=pushed, headers={**headers, "x-hub-signature": sig})
    assert good.status_code == 202 and good.json() == {"accepted": 1}
    listed = api.get("/api/v1/feeds").json()
    assert listed[0]["websub_state"] == "verified" and listed[0]["health"] == "ok"
