"""GET /api/v1/alerts/stream against a real server: streams hold no thread, are capped per key, and close
when their key is revoked; events flow and resume with Last-Event-ID. A handful of streams only: the
thousand-stream figure is bench/streams.py's."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import redis

from shared.alerts import live
from shared.config import get_settings
from tests.integration.conftest import ADMIN
from tests.support.apiserver import serve_api

pytestmark = pytest.mark.integration

TIMEOUT = httpx.Timeout(10.0)


@pytest.fixture()
def stream_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("NEWSWATCH_STREAM_MAX_PER_KEY", "2")
    monkeypatch.setenv("NEWSWATCH_STREAM_KEY_CHECK_SECONDS", "0.5")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture()
def base_url(clean_db: str, redis_client: redis.Redis, stream_settings: None) -> Iterator[str]:
    with serve_api() as url:
        yield url


def _open(client: httpx.Client, key: str, **headers: str) -> httpx.Response:
    req = client.build_request(
        "GET", "/api/v1/alerts/stream", headers={"authorization": f"Bearer {key}", **headers}
    )
    return client.send(req, stream=True)


def _new_key(client: httpx.Client, name: str) -> tuple[int, str]:
    r = client.post("/api/v1/keys", json={"name": name, "scopes": ["read"]}, headers=ADMIN)
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["key"]


def test_open_streams_hold_no_thread_so_the_api_keeps_answering(base_url: str) -> None:
    # More streams than the threadpool has threads (40): a stream holding a thread each starved the API.
    # The server runs in this process, so its threads are counted here.
    with httpx.Client(base_url=base_url, timeout=TIMEOUT, limits=httpx.Limits(max_connections=200)) as c:
        keys = [_new_key(c, f"k{i}")[1] for i in range(23)]
        _open(c, keys[0]).close()  # the first stream starts the shared machinery (a thread at most)
        before = {t.ident for t in threading.enumerate()}
        streams = [_open(c, key) for key in keys for _ in range(2)]
        try:
            assert all(r.status_code == 200 for r in streams)
            for r in streams:
                assert next(r.iter_lines()) == "retry: 2000"
            new = [t.name for t in threading.enumerate() if t.ident not in before]
            # a thread per stream would be 40 (the pool's size) or more; idle pool threads that the opening
            # requests' dependencies started under load are a few, and never one per stream
            assert len(new) < len(streams) // 2, f"{len(new)} more threads with {len(streams)} open: {new}"
            assert c.get("/healthz").status_code == 200
            assert c.get("/readyz").status_code == 200
            assert c.get("/api/v1/watches", headers=ADMIN).status_code == 200
            made = c.post("/api/v1/watches", json={"name": "w", "query": "SCO"}, headers=ADMIN)
            assert made.status_code == 201, made.text
        finally:
            for r in streams:
                r.close()


def test_streams_are_capped_per_key(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=TIMEOUT) as c:
        _id, key = _new_key(c, "capped")
        a, b = _open(c, key), _open(c, key)
        assert (a.status_code, b.status_code) == (200, 200)
        third = _open(c, key)
        assert third.status_code == 429 and third.headers["retry-after"] == "5"
        third.close()
        other = _open(c, ADMIN["Authorization"].split()[1])  # another key has its own allowance
        assert other.status_code == 200
        a.close()  # the server notices the client left and frees the slot
        deadline = time.monotonic() + 10
        while True:
            again = _open(c, key)
            if again.status_code == 200 or time.monotonic() > deadline:
                break
            again.close()
            time.sleep(0.2)
        assert again.status_code == 200
        for r in (b, other, again):
            r.close()


def test_a_stream_closes_when_its_key_is_revoked(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=TIMEOUT) as c:
        key_id, key = _new_key(c, "soon revoked")
        r = _open(c, key)
        assert r.status_code == 200
        lines = r.iter_lines()
        assert next(lines) == "retry: 2000"
        assert c.delete(f"/api/v1/keys/{key_id}", headers=ADMIN).status_code == 204
        rest = list(lines)  # ends: the server closed the stream (a read over 10 s would raise)
        assert ": closed: the API key was revoked" in rest
        r.close()
        assert _open(c, key).status_code == 401


def test_events_flow_live_and_resume_after_last_event_id(base_url: str) -> None:
    stream = live.stream_for(get_settings())
    with httpx.Client(base_url=base_url, timeout=TIMEOUT) as c:
        key = ADMIN["Authorization"].split()[1]
        r = _open(c, key)
        lines = r.iter_lines()
        assert next(lines) == "retry: 2000"
        ids = [stream.publish("alert.created", {"n": i}, watch_id=1) for i in range(3)]
        got: list[str] = []
        for line in lines:
            if line.startswith("id: "):
                got.append(line[4:])
            if len(got) == 3:
                break
        r.close()
    assert got[:3] == ids
    with httpx.Client(base_url=base_url, timeout=TIMEOUT) as c:
        r = _open(c, key, **{"last-event-id": ids[0]})
        resumed = []
        for line in r.iter_lines():
            if line.startswith("id: "):
                resumed.append(line[4:])
            if len(resumed) == 2:
                break
        r.close()
    assert resumed == ids[1:]
