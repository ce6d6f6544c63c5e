"""Delivery features in process on real PostgreSQL and Redis: story threading, throttle digests, filters,
secret rotation, test ping, Apprise e-mail through the outbox, the live stream (Redis and embedded)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook

from shared.alerts import live, outbox, service
from shared.alerts.stream import LocalAlertStream, RedisAlertStream
from shared.config import get_settings
from shared.db import session_scope
from shared.models import Article, Watch
from shared.rules.types import MatchResult, TermHit
from tests.support.listeners import Mailbox, smtp_server
from tests.support.servers import LocalServer
from tests.support.webhooks import Receiver, subscribe

pytestmark = pytest.mark.integration


def _watch(name: str = "SCO", per_hour: int | None = None) -> int:
    with session_scope() as s:
        w = Watch(name=name, query="SCO", max_alerts_per_hour=per_hour)
        s.add(w)
        s.flush()
        return w.id or 0


def _article(n: int, story: int | None) -> int:
    with session_scope() as s:
        a = Article(
            url=f"https://news{n}.example/sco/{n}",
            canonical_url=f"https://news{n}.example/sco/{n}",
            title=f"SCO story {story} from outlet {n}",
            language="en",
            story_id=story,
        )
        s.add(a)
        s.flush()
        return a.id or 0


def _match(watch_id: int, article_id: int) -> list[int]:
    with session_scope() as s:
        watch, article = s.get(Watch, watch_id), s.get(Article, article_id)
        assert watch and article
        result = MatchResult(watch_id, watch.name, 1.5, [TermHit("SCO", "title", 0, 3, "SCO")], "SCO story")
        return service.record_match(
            session=s, article=article, watch=watch, result=result, settings=get_settings()
        )


def _match_batch(pairs: list[tuple[int, int]]) -> list[int]:
    """record_matches for (watch id, article id) pairs in one transaction, as the pipeline records a batch."""
    with session_scope() as s:
        records = []
        for watch_id, article_id in pairs:
            watch, article = s.get(Watch, watch_id), s.get(Article, article_id)
            assert watch and article
            hit = [TermHit("SCO", "title", 0, 3, "SCO")]
            result = MatchResult(watch_id, watch.name, 1.5, hit, "SCO story")
            records.append(service.MatchRecord(article=article, watch=watch, result=result))
        return service.record_matches(session=s, records=records, settings=get_settings())


def _deliver_all(ids: list[int]) -> list[outbox.SendOutcome]:
    settings = get_settings()
    return [outbox.deliver(delivery_id=i, settings=settings, session_factory=session_scope) for i in ids]


def test_story_threading_one_alert_then_updates(api: TestClient, server: LocalServer) -> None:
    receiver = Receiver()
    server.routes["/hook"] = receiver
    _, receiver.secret = subscribe(api, server.url("/hook"))
    w = _watch()
    arts = [_article(i, story=7) for i in range(3)]
    ids = [i for a in arts for i in _match(w, a)]
    assert [o.status for o in _deliver_all(ids)] == ["sent"] * 3
    types = [v["body"]["type"] for v in receiver.verified]
    assert types == ["alert.created", "alert.updated", "alert.updated"]
    alert_ids = {v["body"]["data"]["alert_id"] for v in receiver.verified}
    assert len(alert_ids) == 1
    last = receiver.verified[-1]["body"]["data"]
    assert [s["id"] for s in last["sources"]] == arts
    assert [s["id"] for s in last["new_sources"]] == [arts[2]]
    assert last["story_id"] == 7 and last["revision"] == 3
    alerts = api.get("/api/v1/alerts").json()["items"]
    assert len(alerts) == 1 and alerts[0]["article_ids"] == arts
    assert _match(w, arts[0]) == []  # the same article again changes nothing


def test_throttle_keeps_the_rest_for_one_digest(api: TestClient, server: LocalServer) -> None:
    receiver = Receiver()
    server.routes["/hook"] = receiver
    _, receiver.secret = subscribe(api, server.url("/hook"))
    w = _watch(per_hour=2)
    ids = [i for n in range(5) for i in _match(w, _article(n, story=None))]
    assert len(ids) == 2  # two alerts an hour; three kept, throttled
    with session_scope() as s:
        digest_ids = service.digest_throttled(session=s, settings=get_settings(), window=0)
    assert len(digest_ids) == 1
    _deliver_all(ids + digest_ids)
    digest = receiver.verified[-1]["body"]["data"]["digest"]
    assert digest["count"] == 3 and len(digest["titles"]) == 3
    alerts = api.get("/api/v1/alerts").json()["items"]
    assert sum(a["throttled"] for a in alerts) == 3 and sum(a["is_digest"] for a in alerts) == 1
    with session_scope() as s:
        assert service.digest_throttled(session=s, settings=get_settings(), window=0) == []


def test_a_batch_of_matches_records_what_one_by_one_would(api: TestClient, server: LocalServer) -> None:
    receiver = Receiver()
    server.routes["/hook"] = receiver
    _, receiver.secret = subscribe(api, server.url("/hook"))
    story, throttled = _watch("story"), _watch("throttled", per_hour=2)
    same_story = [_article(i, story=9) for i in range(3)]
    singles = [_article(10 + i, story=None) for i in range(5)]
    pairs = [(story, a) for a in same_story] + [(throttled, a) for a in singles]
    ids = _match_batch(pairs)
    assert len(ids) == 3 + 2  # created + two updates; two alerts an hour for the throttled watch
    assert _match_batch(pairs) == []  # the same matches again change nothing
    assert [o.status for o in _deliver_all(ids)] == ["sent"] * 5
    got = [(v["body"]["type"], v["body"]["data"]["watch"]["id"]) for v in receiver.verified]
    assert sorted(got) == sorted(
        [("alert.created", story), ("alert.updated", story), ("alert.updated", story)]
        + [("alert.created", throttled)] * 2
    )
    last = [v["body"]["data"] for v in receiver.verified if v["body"]["type"] == "alert.updated"][-1]
    assert [s["id"] for s in last["sources"]] == same_story and last["revision"] == 3
    alerts = api.get("/api/v1/alerts", params={"limit": 50}).json()["items"]
    by_watch = {w: [a for a in alerts if a["watch_id"] == w] for w in (story, throttled)}
    assert len(by_watch[story]) == 1 and by_watch[story][0]["article_ids"] == same_story
    assert len(by_watch[throttled]) == 5 and sum(a["throttled"] for a in by_watch[throttled]) == 3


def test_filters_by_watch_and_event_type(api: TestClient, server: LocalServer) -> None:
    w1, w2 = _watch("one"), _watch("two")
    only_w2, only_updates = Receiver(), Receiver()
    server.routes["/w2"], server.routes["/upd"] = only_w2, only_updates
    _, only_w2.secret = subscribe(api, server.url("/w2"), watches=[w2])
    _, only_updates.secret = subscribe(api, server.url("/upd"), event_types=["alert.updated"])
    ids = _match(w1, _article(1, story=1)) + _match(w1, _article(2, story=1)) + _match(w2, _article(3, None))
    _deliver_all(ids)
    assert [v["body"]["data"]["watch"]["id"] for v in only_w2.verified] == [w2]
    assert [v["body"]["type"] for v in only_updates.verified] == ["alert.updated"]
    r = api.post("/api/v1/subscriptions", json={"url": server.url("/x"), "event_types": ["nope"]})
    assert r.status_code == 422


def test_rotated_secret_both_sign_for_the_grace_period(api: TestClient, server: LocalServer) -> None:
    receiver = Receiver()
    server.routes["/hook"] = receiver
    sub_id, old = subscribe(api, server.url("/hook"))
    r = api.post(f"/api/v1/subscriptions/{sub_id}/rotate-secret")
    assert r.status_code == 200
    new = r.json()["secret"]
    assert new != old and r.json()["previous_valid_until"]
    receiver.secret = new
    ping = api.post(f"/api/v1/subscriptions/{sub_id}/test").json()
    assert ping["ok"] and ping["status_code"] == 200, ping
    req = server.received("/hook")[-1]
    assert len(req.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(req.body.decode(), req.headers)["type"] == "ping"
    detail = api.get(f"/api/v1/deliveries/{ping['delivery_id']}").json()
    assert detail["event_type"] == "ping" and detail["attempt_log"][0]["status_code"] == 200


def test_rotating_twice_keeps_both_older_secrets_signing(api: TestClient, server: LocalServer) -> None:
    receiver = Receiver()
    server.routes["/hook2"] = receiver
    sub_id, first = subscribe(api, server.url("/hook2"))
    second = api.post(f"/api/v1/subscriptions/{sub_id}/rotate-secret").json()["secret"]
    third = api.post(f"/api/v1/subscriptions/{sub_id}/rotate-secret").json()["secret"]
    assert len({first, second, third}) == 3
    receiver.secret = third
    ping = api.post(f"/api/v1/subscriptions/{sub_id}/test").json()
    assert ping["ok"] and ping["status_code"] == 200, ping
    req = server.received("/hook2")[-1]
    assert len(req.headers["webhook-signature"].split(" ")) == 3
    for secret in (first, second, third):
        assert Webhook(secret).verify(req.body.decode(), req.headers)["type"] == "ping"


def test_test_ping_reports_failure(api: TestClient, server: LocalServer) -> None:
    server.routes["/down"] = (503, {"retry-after": "1"}, b"maintenance")
    sub_id, _ = subscribe(api, server.url("/down"))
    ping = api.post(f"/api/v1/subscriptions/{sub_id}/test").json()
    assert not ping["ok"] and ping["status_code"] == 503
    log = api.get(f"/api/v1/deliveries/{ping['delivery_id']}").json()["attempt_log"]
    assert log[0]["response_body"] == "maintenance" and log[0]["response_headers"]["retry-after"] == "1"


def test_private_webhook_url_refused(api: TestClient) -> None:
    r = api.post("/api/v1/subscriptions", json={"url": "http://10.0.0.1/hook"})
    assert r.status_code == 422 and "10.0.0.1" in r.text
    r = api.post("/api/v1/subscriptions", json={"url": "file:///etc/passwd"})
    assert r.status_code == 422


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


def test_apprise_email_subscription_through_the_outbox(api: TestClient, smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    url = f"mailto://127.0.0.1:{port}?from=nw@example.com&to=desk@example.com&mode=insecure"
    subscribe(api, url)
    w = _watch()
    ids = _match(w, _article(1, story=None))
    assert [o.status for o in _deliver_all(ids)] == ["sent"]
    text = box.messages[0].content.decode(errors="replace")
    assert "[SCO] New match" in text and "desk@example.com" in box.messages[0].rcpt_tos


def test_live_stream_redis_resumes_and_filters(api: TestClient, redis_client: redis.Redis) -> None:
    stream = live.stream_for(get_settings())
    w1, w2 = _watch("one"), _watch("two")
    sub = stream.subscribe(watch_ids=[w2])
    first = stream.subscribe()
    _match(w1, _article(1, None))
    _match(w2, _article(2, None))
    ev = sub.get(timeout=5)
    assert ev is not None and ev.type == "alert.created" and ev.data["watch"]["id"] == w2
    a, b = first.get(timeout=5), first.get(timeout=5)
    assert a is not None and b is not None and a.data["watch"]["id"] == w1
    resumed = stream.subscribe(last_event_id=a.id)
    again = resumed.get(timeout=5)
    assert again is not None and again.id == b.id
    for s in (sub, first, resumed):
        s.close()


def test_live_stream_channel_is_this_deployments_own(api: TestClient, redis_client: redis.Redis) -> None:
    """Pub/sub channels are global to a Redis server: another prefix's (another run's) events never arrive."""
    settings = get_settings()
    assert settings.redis_key_prefix and live.stream_key(settings).startswith(settings.redis_key_prefix)
    assert live.stream_key(settings.model_copy(update={"redis_key_prefix": ""})) == live.STREAM_KEY
    stream = live.stream_for(settings)
    other = RedisAlertStream(redis_client, key="another-run:" + live.STREAM_KEY)
    sub = stream.subscribe()
    other.publish("alert.created", {"n": "theirs"}, watch_id=1)
    mine = stream.publish("alert.created", {"n": "mine"}, watch_id=1)
    got = sub.get(timeout=5)
    assert got is not None and got.id == mine and got.data == {"n": "mine"}
    assert sub.get(timeout=0.2) is None
    sub.close()


def test_live_stream_http_with_last_event_id(api: TestClient, redis_client: redis.Redis) -> None:
    stream = live.stream_for(get_settings())
    ids = [stream.publish("alert.created", {"n": i}, watch_id=1) for i in range(3)]
    got: list[str] = []
    with api.stream("GET", "/api/v1/alerts/stream", headers={"last-event-id": ids[0]}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("id: "):
                got.append(line[4:])
            if len(got) == 2:
                break
    assert got == ids[1:]


def test_live_stream_embedded_tail(api: TestClient) -> None:
    local = LocalAlertStream()
    tail = live.EmbeddedTail(session_factory=session_scope, stream=local)
    sub = local.subscribe()
    w = _watch()
    from shared.models.base import utcnow

    start = utcnow()
    _match(w, _article(1, story=3))
    _match(w, _article(2, story=3))
    tail.poll(since=start)
    tail.poll(since=start)  # polling twice publishes nothing twice
    events = [sub.get(timeout=1) for _ in range(2)]
    assert [e.type for e in events if e] == ["alert.updated"]  # one alert, now at revision 2
    assert sub.get(timeout=0.05) is None


def test_a_batch_whose_story_was_raised_meanwhile_inserts_none_then_goes_one_by_one(api: TestClient) -> None:
    from shared.alerts import store
    from shared.models import Alert

    w = _watch("savepoint")
    a1, a2 = _article(9101, story=9101), _article(9102, story=9102)

    def alert(article_id: int, story: int) -> Alert:
        return Alert(
            watch_id=w, article_id=article_id, story_key=f"s{story}", terms=[], article_ids=[article_id]
        )

    with session_scope() as s:  # another worker raised story 9102's alert and committed
        s.add(alert(a2, 9102))
    with session_scope() as s:
        assert not store.insert_alerts(session=s, alerts=[alert(a1, 9101), alert(a2, 9102)])
        assert store.alert_for(session=s, watch_id=w, story_key="s9101") is None  # the savepoint rolled back
        first, created = store.insert_alert(session=s, alert=alert(a1, 9101))
        found, again = store.insert_alert(session=s, alert=alert(a2, 9102))
        assert created and first.id is not None
        assert not again and found.article_id == a2  # the row the other worker committed
    with session_scope() as s:
        assert store.alert_for(session=s, watch_id=w, story_key="s9101") is not None
