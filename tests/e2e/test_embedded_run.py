"""`newswatch run` as a subprocess: SQLite, filesystem broker, workers and scheduler, no servers.
An article pushed through the API ends as a signed webhook, verified with standardwebhooks."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.support.processes import REPO, Proc
from tests.support.servers import LocalServer
from tests.support.webhooks import Receiver

pytestmark = pytest.mark.e2e

KEY = "nwk_embedded_test_key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_embedded_run_push_to_signed_webhook(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
    env.update(
        {
            "NEWSWATCH_ADMIN_API_KEY": KEY,
            "NEWSWATCH_ALLOWED_NETWORKS": "127.0.0.0/8",
            "NEWSWATCH_RETRY_SCHEDULE": "0,1,1",
            "NEWSWATCH_DELIVERY_SWEEP_SECONDS": "1",
        }
    )
    proc = Proc(
        ["run", "--port", str(port), "--data-dir", str(tmp_path / "data"), "--no-feeds"], name="embedded"
    )
    proc.env = env
    proc.start()
    try:
        proc.wait_for_log("Uvicorn running", timeout=120)
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {KEY}"}
        with LocalServer() as server, httpx.Client(base_url=base, headers=auth, timeout=30) as client:
            deadline = time.monotonic() + 90  # ready once both workers beat
            while client.get("/readyz").json()["status"] != "ok" and time.monotonic() < deadline:
                time.sleep(0.5)
            assert client.get("/readyz").json()["status"] == "ok"
            assert client.get("/api/v1/alerts", headers={"Authorization": ""}).status_code == 401
            receiver = Receiver()
            server.routes["/hook"] = receiver
            sub = client.post("/api/v1/subscriptions", json={"url": server.url("/hook")})
            assert sub.status_code == 201, sub.text
            receiver.secret = sub.json()["secret"]
            # the seeded SCO watch matches this article
            r = client.post(
                "/api/v1/articles",
                json={
                    "title": "Shanghai Cooperation Organisation summit opens in Tianjin",
                    "text": "Leaders of the SCO member states gathered in Tianjin for the annual summit.",
                    "url": "https://news.example/sco-tianjin",
                },
            )
            assert r.status_code == 202, r.text
            pushed = "Shanghai Cooperation Organisation summit opens in Tianjin"

            def titles() -> set[str]:
                return {e["body"]["data"]["article"]["title"] for e in list(receiver.verified)}

            assert server.wait_for(lambda: pushed in titles(), timeout=90), proc.log()[-4000:]
            assert receiver.rejected == []
            # the seeds were loaded and processed too: the seed article raised an alert
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                alerts = client.get("/api/v1/alerts").json()["items"]
                if any("Multipolar" in a["title"] for a in alerts):
                    break
                time.sleep(0.5)
            assert any("Multipolar" in a["title"] for a in alerts), alerts
    finally:
        proc.stop(timeout=30)
    assert proc.popen is not None and proc.popen.returncode is not None
    assert "Traceback" not in proc.log(), proc.log()[-4000:]
    # everything the embedded mode writes lives under the data directory (kombu's default is ./control)
    assert (tmp_path / "data" / "broker" / "control").is_dir()
    assert not (REPO / "control").exists()
