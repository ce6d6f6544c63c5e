"""RedisHostLimiter against the real Redis: shared slots, minimum gap, crashed holders freed by expiry."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from shared.fetching.politeness import RedisHostLimiter

pytestmark = pytest.mark.integration


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    r = redis.Redis.from_url(os.environ.get("NEWSWATCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    yield r
    r.close()


@pytest.fixture
def prefix(client: redis.Redis) -> Iterator[str]:
    p = f"test:polite:{uuid.uuid4().hex}"
    yield p
    for key in client.scan_iter(f"{p}:*"):
        client.delete(key)


def test_two_workers_share_the_concurrency_cap(client: redis.Redis, prefix: str) -> None:
    w1 = RedisHostLimiter(client, max_concurrent=2, min_gap=0, prefix=prefix)
    w2 = RedisHostLimiter(client, max_concurrent=2, min_gap=0, prefix=prefix)
    a = w1.acquire("pub.example")
    b = w2.acquire("pub.example")
    assert a and b
    assert w1.acquire("pub.example") is None and w2.acquire("pub.example") is None
    assert w2.acquire("other.example") is not None
    w1.release("pub.example", a)
    assert w2.acquire("pub.example") is not None


def test_min_gap_is_enforced_across_workers(client: redis.Redis, prefix: str) -> None:
    w1 = RedisHostLimiter(client, max_concurrent=10, min_gap=30, prefix=prefix)
    w2 = RedisHostLimiter(client, max_concurrent=10, min_gap=30, prefix=prefix)
    assert w1.acquire("pub.example") is not None
    assert w2.acquire("pub.example", wait=0.2) is None


def test_crashed_worker_slot_expires(client: redis.Redis, prefix: str) -> None:
    lim = RedisHostLimiter(client, max_concurrent=1, min_gap=0, slot_ttl=0.3, prefix=prefix)
    assert lim.acquire("pub.example") is not None  # never released
    assert lim.acquire("pub.example") is None
    assert lim.acquire("pub.example", wait=3.0) is not None


def test_concurrent_threads_never_exceed_the_cap(client: redis.Redis, prefix: str) -> None:
    lim = RedisHostLimiter(client, max_concurrent=2, min_gap=0, prefix=prefix)
    active = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal active, peak
        token = lim.acquire("pub.example", wait=10)
        assert token is not None
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        lim.release("pub.example", token)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert peak == 2
