"""A webhook receiver route that verifies every request with the standardwebhooks package."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks.webhooks import Webhook
from starlette.testclient import TestClient

from tests.support.servers import Request, Response


@dataclass
class Receiver:
    """Verifies each POST with the subscription's secret; `fail_first` answers 500 that many times."""

    secret: str = ""
    fail_first: int = 0
    status_after: int = 200
    verified: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, req: Request) -> Response:
        with self._lock:
            self.ids.append(req.headers.get("webhook-id", ""))
            if len(self.ids) <= self.fail_first:
                return 500, {}, b"down"
        try:
            body = Webhook(self.secret).verify(req.body.decode(), req.headers)
        except Exception as exc:  # recorded and answered 400 so the test sees the failure
            with self._lock:
                self.rejected.append(repr(exc))
            return 400, {}, b"bad signature"
        with self._lock:
            self.verified.append({"id": req.headers["webhook-id"], "body": body})
        return self.status_after, {"content-type": "application/json"}, json.dumps({"ok": True}).encode()


def subscribe(api: TestClient, url: str, **extra: Any) -> tuple[int, str]:
    """Create a subscription through the API; returns its id and secret."""
    r = api.post("/api/v1/subscriptions", json={"url": url, **extra})
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["secret"]
