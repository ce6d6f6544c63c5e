"""Delivery in the embedded mode (`newswatch run`: SQLite, filesystem broker, no Redis): the live SSE stream
(in-process fan-out fed by the alerts tail) with Last-Event-ID, and a test ping through the outbox."""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.processes import Proc
from tests.support.servers import LocalServer
from tests.support.webhooks import Receiver

pytestmark = pytest.mark.e2e

KEY = "nwk_embedded_delivery_key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _read_events(
    client: httpx.Client, out: list[dict[str, Any]], word: str, headers: dict[str, str], until_id: str = ""
) -> None:
    """Collect events until one whose article title has `word` (or, given `until_id`, that event)."""
    with client.stream("GET", "/api/v1/alerts/stream", headers=headers, timeout=200) as r:
        event: dict[str, Any] = {}
        for line in r.iter_lines():
            if line.startswith("id: "):
                event = {"id": line[4:]}
            elif line.startswith("event: "):
                event["type"] = line[7:]
            elif line.startswith("data: ") and "id" in event:
                event["data"] = json.loads(line[6:])
                out.append(event)
                if until_id and event["id"] == until_id:
                    return
                if not until_id and word in event["data"].get("article", {}).get("title", ""):
                    return


def test_embedded_stream_and_ping(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
    env.update({"NEWSWATCH_ADMIN_API_KEY": KEY, "NEWSWATCH_ALLOWED_NETWORKS": "127.0.0.0/8"})
    proc = Proc(["run", "--port", str(port), "--data-dir", str(tmp_path / "data"), "--no-feeds"], name="emb")
    proc.env = env
    proc.start()
    try:
        proc.wait_for_log("Uvicorn running", timeout=120)
        auth = {"Authorization": f"Bearer {KEY}"}
        with (
            LocalServer() as server,
            httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth, timeout=30) as client,
        ):
            receiver = Receiver()
            server.routes["/hook"] = receiver
            sub = client.post("/api/v1/subscriptions", json={"url": server.url("/hook")}).json()
            receiver.secret = sub["secret"]
            ping = client.post(f"/api/v1/subscriptions/{sub['id']}/test").json()
            assert ping["ok"] and receiver.verified[0]["body"]["type"] == "ping", ping

            events: list[dict[str, Any]] = []
            reader = threading.Thread(target=_read_events, args=(client, events, "Tianjin", {}), daemon=True)
            reader.start()
            server.wait_for(lambda: False, timeout=2)  # let the stream subscribe before the alert exists
            for i, outlet in enumerate(("news.example", "other.example")):
                r = client.post(
                    "/api/v1/articles",
                    json={
                        "title": f"Shanghai Cooperation Organisation summit opens in Tianjin ({outlet})",
                        "text": "Leaders of the SCO member states gathered in Tianjin for the annual summit.",
                        "url": f"https://{outlet}/sco-tianjin-{i}",
                    },
                )
                assert r.status_code == 202, r.text
            reader.join(200)
            assert events, proc.log()[-3000:]
            ours = events[-1]
            assert (
                ours["type"] in ("alert.created", "alert.updated")
                and "Tianjin" in ours["data"]["article"]["title"]
            )
            # resume: everything after the first event comes again, in order, from the in-process buffer
            again: list[dict[str, Any]] = []
            if len(events) > 1:
                _read_events(client, again, "", {"last-event-id": events[0]["id"]}, until_id=ours["id"])
                assert [e["id"] for e in again] == [e["id"] for e in events[1:]]
    finally:
        proc.stop(timeout=30)
    assert "Traceback" not in proc.log(), proc.log()[-4000:]
