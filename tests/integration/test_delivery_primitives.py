"""Redis-backed limits and live stream, against the real Redis on 127.0.0.1."""

import os
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from shared.alerts.limits import EndpointLimits, RedisLimiter
from shared.alerts.stream import RedisAlertStream

pytestmark = pytest.mark.integration


@pytest.fixture
def rclient() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(os.environ.get("NEWSWATCH_REDIS_URL", "redis://127.0.0.1:6379/11"))
    prefix = f"test:{uuid.uuid4().hex}:"
    client.set(prefix + "probe", 1, ex=5)
    yield client
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)
    client.close()


def _prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


def test_redis_concurrency_limit_is_shared_and_expires(rclient: redis.Redis) -> None:
    a, b = RedisLimiter(rclient, prefix=_prefix()), None
    b = RedisLimiter(rclient, prefix=a.prefix)  # a second worker sees the same slots
    limits = EndpointLimits(max_concurrent=2, lease_seconds=0.3)
    p1, p2 = a.acquire("ep", limits), b.acquire("ep", limits)
    assert p1.granted and p2.granted
    refused = a.acquire("ep", limits)
    assert not refused.granted and refused.reason == "concurrency"
    assert a.acquire("other", limits).granted
    b.release(p2)
    assert a.acquire("ep", limits).granted
    # A killed worker never releases; its lease runs out.
    deadline = time.monotonic() + 5
    while not a.acquire("ep", limits).granted:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_redis_rate_limit(rclient: redis.Redis) -> None:
    lim = RedisLimiter(rclient, prefix=_prefix())
    limits = EndpointLimits(max_concurrent=0, rate_per_second=1, burst=3)
    granted = [lim.acquire("ep", limits).granted for _ in range(5)]
    assert granted == [True, True, True, False, False]
    refused = lim.acquire("ep", limits)
    assert refused.reason == "rate" and 0 < refused.retry_in <= 1.0


def test_redis_acquire_many_shares_slots_with_single_permits(rclient: redis.Redis) -> None:
    a = RedisLimiter(rclient, prefix=_prefix())
    b = RedisLimiter(rclient, prefix=a.prefix)  # another worker
    limits = EndpointLimits(max_concurrent=4)
    single = b.acquire("ep", limits)
    batch = a.acquire_many("ep", limits, 10)
    assert [p.granted for p in batch] == [True] * 3 and len({p.token for p in batch}) == 3
    assert a.in_flight("ep") == 4
    assert not b.acquire("ep", limits).granted
    (refused,) = a.acquire_many("ep", limits, 2)
    assert not refused.granted and refused.reason == "concurrency"
    a.release_many(batch)  # one call gives the batch's slots back
    assert a.in_flight("ep") == 1
    assert len(b.acquire_many("ep", limits, 10)) == 3
    b.release(single)


def test_redis_acquire_many_takes_one_rate_token_per_permit(rclient: redis.Redis) -> None:
    lim = RedisLimiter(rclient, prefix=_prefix())
    limits = EndpointLimits(max_concurrent=0, rate_per_second=1, burst=3)
    assert len(lim.acquire_many("ep", limits, 2)) == 2
    assert lim.acquire("ep", limits).granted  # the third token
    (refused,) = lim.acquire_many("ep", limits, 5)
    assert not refused.granted and refused.reason == "rate" and 0 < refused.retry_in <= 1.0


def test_redis_acquire_many_expires_like_single_leases(rclient: redis.Redis) -> None:
    lim = RedisLimiter(rclient, prefix=_prefix())
    limits = EndpointLimits(max_concurrent=2, lease_seconds=0.3)
    assert len(lim.acquire_many("ep", limits, 2)) == 2  # a worker killed before releasing them
    assert not lim.acquire("ep", limits).granted
    deadline = time.monotonic() + 5
    while not lim.acquire("ep", limits).granted:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_redis_limit_atomic_under_threads(rclient: redis.Redis) -> None:
    lim = RedisLimiter(rclient, prefix=_prefix())
    limits = EndpointLimits(max_concurrent=3)
    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        p = lim.acquire("ep", limits)
        with lock:
            results.append(p.granted)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 3 and lim.in_flight("ep") == 3


def test_redis_stream_fanout_resume_and_filter(rclient: redis.Redis) -> None:
    key = _prefix() + "stream"
    s = RedisAlertStream(rclient, key=key)
    live = s.subscribe()
    only2 = s.subscribe(watch_ids=[2])
    ids = [s.publish("alert.created", {"n": i}, watch_id=i % 3) for i in range(6)]
    got = [live.get(timeout=2) for _ in range(6)]
    assert [e.id for e in got if e] == ids
    filtered = [only2.get(timeout=0.5) for _ in range(2)]
    assert [e.data["n"] for e in filtered if e] == [2, 5]
    assert only2.get(timeout=0.05) is None

    resumed = s.subscribe(last_event_id=ids[3])
    more = s.publish("alert.updated", {"n": 6})
    out = [resumed.get(timeout=2) for _ in range(3)]
    assert [e.id for e in out if e] == [ids[4], ids[5], more]  # backlog then live, no duplicate
    assert resumed.get(timeout=0.05) is None
    for sub in (live, only2, resumed):
        sub.close()


def test_redis_stream_publish_many_in_one_round_trip_in_order(rclient: redis.Redis) -> None:
    s = RedisAlertStream(rclient, key=_prefix() + "stream")
    live = s.subscribe()
    first = s.publish("alert.created", {"n": 0}, watch_id=1)
    ids = s.publish_many([("alert.created", {"n": i}, i) for i in range(1, 5)])
    assert len(ids) == 4 and len(set(ids)) == 4
    got = [live.get(timeout=2) for _ in range(5)]
    assert [e.id for e in got if e] == [first, *ids]
    assert [(e.data["n"], e.watch_id) for e in got if e] == [(0, "1"), (1, "1"), (2, "2"), (3, "3"), (4, "4")]
    resumed = s.subscribe(last_event_id=ids[1])  # the stream kept them too
    assert [e.id for e in (resumed.get(timeout=2) for _ in range(2)) if e] == ids[2:]
    assert s.publish_many([]) == []
    for sub in (live, resumed):
        sub.close()
