"""The dashboard's answer cache: fresh answers served, stale ones served while one thread recomputes, old
ones recomputed first, one computation for concurrent misses, off at ttl 0. A fake clock; no database."""

from __future__ import annotations

import threading
from typing import Any

from shared.insights.cache import STALE_FACTOR, AnswerCache


class FakeSession:
    """Stands in for a Session: the background refresh opens Session(bind) of its own."""

    def get_bind(self) -> Any:
        return None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_fresh_then_stale_served_while_refreshing_then_recomputed_when_old(monkeypatch: Any) -> None:
    clock = Clock()
    cache = AnswerCache(clock=clock)
    calls: list[int] = []
    refreshed = threading.Event()

    def compute(_s: Any) -> int:
        calls.append(1)
        return len(calls)

    class OwnSession:
        def __init__(self, *_a: Any, **_k: Any) -> None: ...
        def __enter__(self) -> OwnSession:
            return self

        def __exit__(self, *_a: Any) -> None:
            refreshed.set()

    monkeypatch.setattr("shared.insights.cache.Session", OwnSession)
    s = FakeSession()
    assert cache.get("k", ttl=10, session=s, compute=compute) == 1  # type: ignore[arg-type]
    clock.now += 5
    assert cache.get("k", ttl=10, session=s, compute=compute) == 1  # type: ignore[arg-type]  # fresh
    clock.now += 6
    assert cache.get("k", ttl=10, session=s, compute=compute) == 1  # type: ignore[arg-type]  # stale, at once
    assert refreshed.wait(5)
    assert cache.get("k", ttl=10, session=s, compute=compute) == 2  # type: ignore[arg-type]  # refreshed
    clock.now += 10 * STALE_FACTOR + 1
    assert cache.get("k", ttl=10, session=s, compute=compute) == 3  # type: ignore[arg-type]  # too old: now
    assert cache.get("other", ttl=10, session=s, compute=compute) == 4  # type: ignore[arg-type]


def test_concurrent_misses_compute_once_and_ttl_zero_is_off() -> None:
    cache = AnswerCache()
    started = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    def slow(_s: Any) -> str:
        calls.append(1)
        started.set()
        release.wait(5)
        return "answer"

    results: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(cache.get("k", ttl=60, session=FakeSession(), compute=slow))
        )  # type: ignore[arg-type]
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    assert started.wait(5)
    release.set()
    for t in threads:
        t.join(5)
    assert results == ["answer"] * 4 and len(calls) == 1
    n = [0]

    def count(_s: Any) -> int:
        n[0] += 1
        return n[0]

    assert [cache.get("z", ttl=0, session=FakeSession(), compute=count) for _ in range(3)] == [1, 2, 3]  # type: ignore[arg-type]


def test_the_oldest_key_goes_when_full() -> None:
    cache = AnswerCache(max_entries=2)
    for key in ("a", "b", "c"):
        cache.get(key, ttl=60, session=FakeSession(), compute=lambda _s, k=key: k)  # type: ignore[arg-type,misc]
    assert cache.computations == 3
    cache.get("a", ttl=60, session=FakeSession(), compute=lambda _s: "again")  # type: ignore[arg-type]
    assert cache.computations == 4  # "a" had been dropped
