"""No 500 on any input, as classes: integers out of range anywhere, a taken name on PATCH, null for fields
that take none, lone surrogates in any text, dates at the ends of the calendar, oversized bodies."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.api.errors import api_routes
from shared.config import get_settings
from shared.schemas import MAX_INT
from tests.support.apiserver import serve_api

pytestmark = pytest.mark.integration

HUGE = 2**63  # the first integer no database column takes
OUT_OF_RANGE = (HUGE, 2**31, -1, 0)


def _schema(api: TestClient) -> dict[str, Any]:
    return api.get("/openapi.json").json()


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _integers(
    schema: dict[str, Any], node: dict[str, Any], where: str, seen: set[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every integer schema reachable from `node` (through refs, anyOf, items, properties)."""
    ref = node.get("$ref")
    if ref is not None:
        if ref in seen:
            return
        seen = seen | {ref}
    node = _resolve(schema, node)
    if node.get("type") == "integer":
        yield where, node
    for i, sub in enumerate(node.get("anyOf", []) + node.get("allOf", []) + node.get("oneOf", [])):
        yield from _integers(schema, sub, f"{where}|{i}", seen)
    if "items" in node:
        yield from _integers(schema, node["items"], f"{where}[]", seen)
    for name, sub in node.get("properties", {}).items():
        yield from _integers(schema, sub, f"{where}.{name}", seen)


def test_every_integer_input_is_bounded(api: TestClient) -> None:
    """Each integer a client can send (path, query, body) has a minimum and a maximum the database takes."""
    schema = _schema(api)
    unbounded = []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            sources = [(f"{p['in']} {p['name']}", p["schema"]) for p in op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body is not None:
                sources.append(("body", body))
            for where, node in sources:
                for at, integer in _integers(schema, node, where, set()):
                    if integer.get("maximum", HUGE) > MAX_INT or "minimum" not in integer:
                        unbounded.append(f"{method.upper()} {path}: {at}")
    assert not unbounded, "integers without bounds:\n" + "\n".join(unbounded)


def test_out_of_range_ids_and_integers_answer_4xx(api: TestClient) -> None:
    watch = api.post("/api/v1/watches", json={"name": "w", "query": "SCO"}).json()["id"]
    found, probed = [], 0
    for path, method, route in api_routes(api.app):  # type: ignore[arg-type]
        ints = [p.name for p in route.dependant.path_params if p.field_info.annotation is int]
        for value in OUT_OF_RANGE:
            for name in ints:
                url = path
                for p in route.dependant.path_params:
                    url = url.replace("{" + p.name + "}", str(value) if p.name == name else "x")
                r = api.request(method, url, json={} if method in ("POST", "PATCH") else None)
                probed += 1
                if not 400 <= r.status_code < 500:
                    found.append(f"{method} {url}: {r.status_code}")
        if method == "GET":
            for q in route.dependant.query_params:
                if q.field_info.annotation in (int, int | None):
                    r = api.get(path.replace("{watch_id}", str(watch)), params={q.alias: HUGE})
                    probed += 1
                    if not 400 <= r.status_code < 500 and "{" not in path:
                        found.append(f"GET {path}?{q.alias}={HUGE}: {r.status_code}")
    for body in (
        {"name": "a", "query": "x", "max_alerts_per_hour": HUGE},
        {"name": "b", "query": "x", "max_alerts_per_hour": -5},
    ):
        assert api.post("/api/v1/watches", json=body).status_code == 422
    assert api.patch(f"/api/v1/watches/{watch}", json={"max_alerts_per_hour": HUGE}).status_code == 422
    assert (
        api.post("/api/v1/subscriptions", json={"url": "http://127.0.0.1:9/h", "watches": [HUGE]}).status_code
        == 422
    )
    assert api.post(f"/api/v1/watches/backtest?offset={HUGE}", json={"query": "SCO"}).status_code == 422
    anon = {"Authorization": ""}
    assert api.get(f"/websub/{HUGE}/token", headers=anon).status_code in (404, 422)
    assert api.post(f"/websub/{HUGE}/token", content=b"<feed/>", headers=anon).status_code in (404, 422)
    assert api.get(f"/api/v1/entities/{HUGE}").status_code == 404
    assert not found, "\n".join(found)
    assert probed > 100, f"only {probed} probes: are the id parameters still found?"


def test_patch_with_a_taken_name_is_a_conflict_like_post(api: TestClient) -> None:
    api.post("/api/v1/watches", json={"name": "first", "query": "SCO"})
    second = api.post("/api/v1/watches", json={"name": "second", "query": "SCO"}).json()["id"]
    r = api.patch(f"/api/v1/watches/{second}", json={"name": "first"})
    assert r.status_code == 409 and r.json()["code"] == "name_taken"
    assert api.get(f"/api/v1/watches/{second}").json()["name"] == "second"
    assert api.patch(f"/api/v1/watches/{second}", json={"name": "second"}).status_code == 200


def test_null_for_a_field_that_takes_none_is_refused_never_stored(api: TestClient) -> None:
    watch = api.post("/api/v1/watches", json={"name": "w", "query": "SCO"}).json()
    for field in ("name", "query", "enabled"):
        r = api.patch(f"/api/v1/watches/{watch['id']}", json={field: None})
        assert r.status_code == 422, (field, r.text)
    assert api.get(f"/api/v1/watches/{watch['id']}").json() == watch
    cleared = api.patch(f"/api/v1/watches/{watch['id']}", json={"max_alerts_per_hour": None})
    assert cleared.status_code == 200, "null means 'the default' there"
    feed = api.post("/api/v1/feeds", json={"url": "http://127.0.0.1:9/f.xml"}).json()
    for field in ("enabled", "extract_full_text"):
        assert api.patch(f"/api/v1/feeds/{feed['id']}", json={field: None}).status_code == 422
    sub = api.post("/api/v1/subscriptions", json={"url": "http://127.0.0.1:9/h"}).json()
    assert api.patch(f"/api/v1/subscriptions/{sub['id']}", json={"enabled": None}).status_code == 422
    for body in (
        {"name": None, "query": "x"},
        {"name": "n", "query": None},
        {"name": "n", "query": "x", "enabled": None},
    ):
        assert api.post("/api/v1/watches", json=body).status_code == 422


LONE = "bad \ud800 text"


def test_lone_surrogates_are_refused_wherever_text_comes_in(api: TestClient) -> None:
    watch = api.post("/api/v1/watches", json={"name": "w", "query": "SCO"}).json()["id"]
    feed = api.post("/api/v1/feeds", json={"url": "http://127.0.0.1:9/f.xml"}).json()["id"]
    sub = api.post("/api/v1/subscriptions", json={"url": "http://127.0.0.1:9/h"}).json()["id"]
    cases = [
        ("POST", "/api/v1/articles", {"title": LONE, "text": "x"}),
        ("POST", "/api/v1/articles", {"title": "t", "text": LONE}),
        ("POST", "/api/v1/articles", {"articles": [{"title": "ok", "author": LONE}]}),
        ("POST", "/api/v1/watches", {"name": LONE, "query": "SCO"}),
        ("POST", "/api/v1/watches", {"name": "n", "query": f"SCO OR {LONE}"}),
        ("PATCH", f"/api/v1/watches/{watch}", {"name": LONE}),
        ("PATCH", f"/api/v1/watches/{watch}", {"description": LONE}),
        ("POST", "/api/v1/watches/validate", {"query": LONE}),
        ("POST", "/api/v1/watches/backtest", {"query": LONE}),
        ("POST", "/api/v1/feeds", {"url": "http://127.0.0.1:9/g.xml", "title": LONE}),
        ("PATCH", f"/api/v1/feeds/{feed}", {"title": LONE}),
        ("POST", "/api/v1/subscriptions", {"url": "http://127.0.0.1:9/h2", "description": LONE}),
        ("PATCH", f"/api/v1/subscriptions/{sub}", {"description": LONE}),
        ("POST", "/api/v1/keys", {"name": LONE, "scopes": ["read"]}),
        ("POST", "/api/v1/accounts", {"name": LONE}),
        ("POST", "/api/v1/watches", {LONE: "key", "name": "n", "query": "x"}),
    ]
    for method, path, body in cases:
        # json.dumps escapes it as \ud800, as any client would send it
        raw = json.dumps(body).encode()
        r = api.request(method, path, content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 422, (method, path, body, r.status_code, r.text)
        assert "surrogate" in r.json()["detail"]
    fine = api.post("/api/v1/watches", json={"name": "emoji \U0001f642 watch", "query": "SCO"})
    assert fine.status_code == 201 and fine.json()["name"] == "emoji \U0001f642 watch"


def test_dates_at_the_ends_of_the_calendar(api: TestClient) -> None:
    for window in (
        {"until": "9999-12-31"},
        {"since": "0001-01-01", "until": "9999-12-31"},
        {"until": "0001-01-01"},
        {"since": "9999-12-31T23:59:59+00:00"},
    ):
        r = api.post("/api/v1/watches/backtest", json={"query": "SCO", **window})
        assert r.status_code in (200, 422), (window, r.status_code, r.text)
    assert (
        api.post("/api/v1/watches/backtest", json={"query": "SCO", "until": "9999-12-31"}).status_code == 200
    )
    for params in (
        {"until": "0001-01-01T00:00:00"},
        {"since": "0001-01-01T00:00:00", "until": "9999-12-31T23:59:59"},
        {"until": "0001-01-01T00:00:00+00:00", "hours": 8784},
    ):
        r = api.get("/api/v1/entities", params=params)
        assert r.status_code in (200, 422), (params, r.status_code, r.text)


@pytest.fixture()
def small_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setenv("NEWSWATCH_MAX_REQUEST_BYTES", "4096")
    get_settings.cache_clear()
    yield 4096
    monkeypatch.undo()
    get_settings.cache_clear()


def test_bodies_over_the_limit_get_413(api: TestClient, small_limit: int) -> None:
    with TestClient(create_app(), headers=dict(api.headers)) as client:
        big = {"title": "t", "text": "x" * small_limit}
        r = client.post("/api/v1/articles", json=big)
        assert r.status_code == 413 and r.json()["code"] == "too_large" and len(r.content) < 500

        def streamed() -> Iterator[bytes]:
            yield b'{"title": "t", "text": "'
            for _ in range(10):
                yield b"x" * 1000
            yield b'"}'

        r = client.post("/api/v1/articles", content=streamed(), headers={"content-type": "application/json"})
        assert r.status_code == 413, r.text
        assert client.post("/api/v1/articles", json={"title": "t", "text": "x" * 1000}).status_code == 202


def _raw_request(port: int, head: bytes, first: bytes) -> tuple[bytes, float]:
    """Send the head and the start of a body, then wait for an answer without sending the rest."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head + first)
        started = time.monotonic()
        data = b""
        while b"\r\n\r\n" not in data:
            got = s.recv(4096)
            if not got:
                break
            data += got
        return data, time.monotonic() - started


def test_the_limit_holds_while_the_body_streams_in(api: TestClient, small_limit: int) -> None:
    """A server that read the whole body first would wait here for bytes that never come."""
    with serve_api() as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        auth = api.headers["authorization"].encode()
        declared = (
            b"POST /api/v1/articles HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"authorization: " + auth + b"\r\ncontent-length: 50000000\r\n\r\n"
        )
        answer, _ = _raw_request(port, declared, b'{"title": "t", "text": "xxxx')
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        chunked = (
            b"POST /api/v1/articles HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"authorization: " + auth + b"\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        body = b"".join(b"%x\r\n%s\r\n" % (1000, b"x" * 1000) for _ in range(6))
        answer, _ = _raw_request(port, chunked, body)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
