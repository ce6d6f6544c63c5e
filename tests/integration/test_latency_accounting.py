"""The latency figures of a webhook body, through the real parts: an article pushed through the API, processed
by a worker, delivered to a loopback receiver. Every stage time carries milliseconds, the stages are in
order, and the figures between them are never negative (they were: `sent` was cut to whole seconds)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.support.processes import Proc
from tests.support.servers import LocalServer
from tests.support.webhooks import Receiver, subscribe

pytestmark = pytest.mark.integration

MS_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _t(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_stage_times_are_ordered_with_milliseconds(
    api: TestClient, server: LocalServer, worker: Proc
) -> None:
    receiver = Receiver()
    server.routes["/hook"] = receiver
    watch = api.post("/api/v1/watches", json={"name": "SCO", "query": "SCO"})
    assert watch.status_code == 201, watch.text
    _, receiver.secret = subscribe(api, server.url("/hook"), watches=[watch.json()["id"]])
    published = "2026-01-05T10:00:00.250Z"
    pushed = api.post(
        "/api/v1/articles",
        json={
            "title": "SCO ministers meet",
            "text": "Ministers of the SCO met on Tuesday.",
            "url": "http://127.0.0.1/latency-1",
            "published": published,
        },
    )
    assert pushed.status_code == 202, pushed.text

    assert server.wait_for(lambda: len(receiver.verified) >= 1, timeout=90), worker.log()[-3000:]
    assert receiver.rejected == []
    lat = receiver.verified[0]["body"]["data"]["latency"]
    print("latency block:", lat)

    stages = [lat[k] for k in ("published", "fetched", "matched", "sent")]
    for stamp in stages:
        assert MS_STAMP.match(stamp), stamp  # milliseconds always written
    assert lat["published"] == published  # the fraction the client sent survives storage
    times = [_t(s) for s in stages]
    assert times == sorted(times), stages  # published ≤ fetched ≤ matched ≤ sent
    for key in ("published_to_fetched_ms", "fetched_to_matched_ms", "matched_to_sent_ms"):
        assert lat[key] >= 0, (key, lat)
    # each figure agrees with its two stamps (the stamps are cut to the millisecond, the figures are not)
    for key, a, b in (
        ("published_to_fetched_ms", 0, 1),
        ("fetched_to_matched_ms", 1, 2),
        ("matched_to_sent_ms", 2, 3),
    ):
        assert abs((times[b] - times[a]) / timedelta(milliseconds=1) - lat[key]) <= 1.0, (key, lat)
