"""The outbox in process against real PostgreSQL and a local receiver: attempts, retries, disable, replay."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shared.alerts import outbox, service
from shared.config import get_settings
from shared.db import session_scope
from tests.support.servers import LocalServer
from tests.support.webhooks import Receiver, subscribe

pytestmark = pytest.mark.integration


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
    _, receiver.secret = subscribe(api, server.url("/hook"))
    (did,) = _event()
    out = _deliver(did)
    assert out.status == "sent", (out, api.get(f"/api/v1/deliveries/{did}").json())
    assert receiver.rejected == [] and len(receiver.verified) == 1
    detail = api.get(f"/api/v1/deliveries/{did}").json()
    assert detail["status"] == "succeeded" and detail["webhook_id"] == receiver.ids[0]
    assert detail["attempt_log"][0]["status_code"] == 200
    assert _deliver(did).status == "skipped"  # already done: running twice changes nothing
