"""The outbox in process against real PostgreSQL and a local receiver: attempts, retries, disable, replay."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.alerts import outbox, service
from shared.config import get_settings
from shared.db import session_scope
from tests.support.servers import LocalServer
from tests.support.webhooks import Receiver

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _fresh_subscription_cache() -> Iterator[None]:
    """Tests reuse subscription ids (tables are truncated between tests): no cached endpoint may leak."""
    outbox.forget_subscription()
    yield
    outbox.forget_subscription()


def _subscribe(api: TestClient, url: str, **extra: Any) -> tuple[int, str]:
    r = api.post("/api/v1/subscriptions", json={"url": url, **extra})
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["secret"]


def _event(n: int = 1) -> list[int]:
    with session_scope() as session:
        return service.enqueue_event(
            session=session,
            event_type="alert.created",
            event_key=f"test:{n}",
            data={"alert_id": n, "latency": {"matched": None}},
        )


def _deliver(delivery_id: int) -> outbox.SendOutcome:
    return outbox.deliver(delivery_id=delivery_id, settings=get_settings(), session_factory=session_scope)


def test_delivered_and_logged(api: TestClient, server: LocalServer) -> None:
    receiver = Receiver()
    server.routes["/hook"] = receiver
    _, receiver.secret = _subscribe(api, server.url("/hook"))
    (did,) = _event()
    out = _deliver(did)
    assert out.status == "sent", (out, api.get(f"/api/v1/deliveries/{did}").json())
    assert receiver.rejected == [] and len(receiver.verified) == 1
    detail = api.get(f"/api/v1/deliveries/{did}").json()
    assert detail["status"] == "succeeded" and detail["webhook_id"] == receiver.ids[0]
    assert detail["attempt_log"][0]["status_code"] == 200
    assert _deliver(did).status == "skipped"  # already done: running twice changes nothing
