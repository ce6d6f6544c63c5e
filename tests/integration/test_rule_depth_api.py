"""Deeply nested queries are refused with 422 and a position by every route that takes a query."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shared.rules.parser import MAX_DEPTH

pytestmark = pytest.mark.integration

DEEP = {
    "title prefixes": "title:" * 470 + "sco",
    "text prefixes": "text:" * 470 + "sco",
    "NOTs": "NOT " * 470 + "sco",
    "a NEAR chain": " NEAR/1 ".join(f"w{i}" for i in range(470)),
    "SCOREs": "SCORE>=1(" * 100 + "sco" + ")" * 100,
    "mixed": "(NOT title:(" * 25 + "sco" + "))" * 25,
}


@pytest.mark.parametrize("query", DEEP.values(), ids=DEEP.keys())
def test_every_query_route_refuses_a_query_nested_past_the_limit(api: TestClient, query: str) -> None:
    routes = [
        ("/api/v1/watches", {"name": "deep", "query": query}),
        ("/api/v1/watches/validate", {"query": query}),
        ("/api/v1/watches/backtest", {"query": query}),
    ]
    for path, body in routes:
        r = api.post(path, json=body)
        assert r.status_code == 422, (path, r.status_code, r.text[:300])
        body = r.json()
        assert body["code"] == "rule_syntax" and "nested too deeply" in body["detail"], body
        assert body["position"] > 0
        assert str(MAX_DEPTH) in body["expected"]
    ok = api.post("/api/v1/watches", json={"name": "shallow", "query": "sco"})
    assert ok.status_code == 201, ok.text
    watch_id = ok.json()["id"]
    r = api.patch(f"/api/v1/watches/{watch_id}", json={"query": query})
    assert r.status_code == 422, r.text[:300]
    assert api.get(f"/api/v1/watches/{watch_id}").json()["query"] == "sco"
