"""Delivery reliability on the real parts: PostgreSQL, Redis, Celery worker processes, receivers on 127.0.0.1.

Every received webhook is verified with the standardwebhooks package (tests.support.webhooks.Receiver), and
each test counts what was lost: always 0. The test settings retry 5 times, about a second apart, with a 5 s
request timeout (tests/conftest.py).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from services.dispatch import enqueue_deliveries
from shared.alerts import service
from shared.db import session_scope
from tests.support import processes
from tests.support.processes import Proc
from tests.support.servers import LocalServer, Request, Response, read_body
from tests.support.webhooks import Receiver, subscribe

pytestmark = pytest.mark.integration


def _events(n: int, *, prefix: str = "e", enqueue: bool = True) -> list[int]:
    """n alert events in the outbox (one delivery per subscription each), enqueued after commit."""
    ids: list[int] = []
    with session_scope() as session:
        for i in range(n):
            ids += service.enqueue_event(
                session=session,
                event_type="alert.created",
                event_key=f"{prefix}:{i}",
                data={"alert_id": i, "latency": {"matched": None}},
            )
    if enqueue:
        enqueue_deliveries(ids, batch_size=1)
    return ids


def _wait(predicate: Callable[[], bool], timeout: float, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time" + (f"\n{proc.log()[-3000:]}" if proc else ""))


def _delivery(api: TestClient, delivery_id: int) -> dict[str, Any]:
    return api.get(f"/api/v1/deliveries/{delivery_id}").json()


def _msg_ids(api: TestClient, delivery_ids: list[int]) -> set[str]:
    return {_delivery(api, d)["webhook_id"] for d in delivery_ids}


def _assert_nothing_lost(api: TestClient, receiver: Receiver, delivery_ids: list[int]) -> None:
    expected = _msg_ids(api, delivery_ids)
    got = {v["id"] for v in receiver.verified}
    assert receiver.rejected == [], receiver.rejected[:3]
    assert expected - got == set(), f"lost {len(expected - got)}"
    assert got <= expected  # repeats, if any, carry an id we sent: receivers deduplicate on it


class LateServer:
    """A receiver on a port that refuses connections until `start()` (a receiver that is down)."""

    def __init__(self, handler: Callable[[Request], Response]) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.handler = handler
        self.httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = read_body(self)
                if body is None:
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra, payload = outer.handler(Request("POST", self.path, headers, body))
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), H)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()


def test_a_sender_killed_mid_request_is_no_request(server: LocalServer) -> None:
    """kill -9 can land between a webhook's headers and its body (httpx writes them separately): the receiver
    must see no request at all, as a real server would, not a cut body that fails its signature check."""
    receiver = Receiver(secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    server.routes["/hook"] = receiver
    head = b"POST /hook HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head + b"content-length: 200\r\nwebhook-id: msg_cut\r\n\r\n" + b'{"type":')
        sock.shutdown(socket.SHUT_WR)  # the sender is gone
        assert sock.recv(1024) == b""  # closed without an answer
    assert receiver.ids == [] and receiver.rejected == []


def test_receiver_down_then_up(api: TestClient, worker: Proc) -> None:
    receiver = Receiver()
    late = LateServer(receiver)
    _, receiver.secret = subscribe(api, late.url)
    (did,) = _events(1)
    try:
        _wait(lambda: _delivery(api, did)["attempts"] >= 2, 30, worker)
        late.start()
        _wait(lambda: len(receiver.verified) == 1, 30, worker)
    finally:
        late.stop()
    d = _delivery(api, did)
    assert d["status"] == "succeeded"
    assert [a["status_code"] for a in d["attempt_log"]][-1] == 200
    assert all(a["error"] for a in d["attempt_log"][:-1])  # connection refused before
    assert receiver.verified[0]["id"] == d["webhook_id"]
    _assert_nothing_lost(api, receiver, [did])


def test_500_until_the_last_attempt_is_a_dead_letter(
    api: TestClient, server: LocalServer, worker: Proc
) -> None:
    receiver = Receiver(fail_first=1000)
    server.routes["/hook"] = receiver
    sub_id, receiver.secret = subscribe(api, server.url("/hook"))
    (did,) = _events(1)
    _wait(lambda: _delivery(api, did)["status"] == "failed", 60, worker)
    d = _delivery(api, did)
    assert [a["status_code"] for a in d["attempt_log"]] == [500] * 5
    assert [a["attempt"] for a in d["attempt_log"]] == [1, 2, 3, 4, 5]
    assert len(set(receiver.ids)) == 1 and receiver.ids[0] == d["webhook_id"]
    dead = api.get("/api/v1/deliveries", params={"status": "failed"}).json()["items"]
    assert [x["id"] for x in dead] == [did]
    # replay: the receiver is fixed, the same webhook-id arrives
    receiver.fail_first = 0
    r = api.post(f"/api/v1/subscriptions/{sub_id}/replay", json={"since": "2000-01-01T00:00:00Z"})
    assert r.status_code == 202 and r.json()["delivery_ids"] == [did]
    _wait(lambda: len(receiver.verified) == 1, 30, worker)
    assert receiver.verified[0]["id"] == d["webhook_id"]
    assert _delivery(api, did)["replays"] == 1


def test_timeout_then_answer(api: TestClient, server: LocalServer, worker: Proc) -> None:
    receiver = Receiver()
    calls: list[float] = []

    def hang_once(req: Request) -> Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            time.sleep(7)  # longer than the 5 s request timeout
        return receiver(req)

    server.routes["/hook"] = hang_once
    _, receiver.secret = subscribe(api, server.url("/hook"))
    (did,) = _events(1)
    _wait(lambda: _delivery(api, did)["status"] == "succeeded", 60, worker)
    log = _delivery(api, did)["attempt_log"]
    assert "Timeout" in (log[0]["error"] or "") and log[0]["status_code"] is None
    assert log[-1]["status_code"] == 200
    assert len(set(receiver.ids)) == 1
    _assert_nothing_lost(api, receiver, [did])


def test_slow_answer_is_delivered_once(api: TestClient, server: LocalServer, worker: Proc) -> None:
    receiver = Receiver()

    def slow(req: Request) -> Response:
        time.sleep(2)
        return receiver(req)

    server.routes["/hook"] = slow
    _, receiver.secret = subscribe(api, server.url("/hook"))
    (did,) = _events(1)
    _wait(lambda: _delivery(api, did)["status"] == "succeeded", 30, worker)
    assert len(_delivery(api, did)["attempt_log"]) == 1 and len(receiver.ids) == 1
    _assert_nothing_lost(api, receiver, [did])


def test_410_disables_tells_the_owner_and_replays_on_reenable(
    api: TestClient, server: LocalServer, worker: Proc
) -> None:
    gone = Receiver(status_after=410)
    other = Receiver()
    server.routes["/gone"], server.routes["/other"] = gone, other
    sub_id, gone.secret = subscribe(api, server.url("/gone"), event_types=["alert.created"])
    _, other.secret = subscribe(api, server.url("/other"), event_types=["endpoint.disabled"])
    (did,) = _events(1, prefix="a")
    _wait(lambda: len(other.verified) == 1, 90, worker)  # bounds, not timings: generous under load
    event = other.verified[0]["body"]
    assert event["type"] == "endpoint.disabled" and event["data"]["subscription"]["id"] == sub_id
    sub = api.get(f"/api/v1/subscriptions/{sub_id}").json()
    assert sub["enabled"] is False and "410" in sub["disabled_reason"]
    assert _delivery(api, did)["status"] == "failed" and len(gone.ids) == 1

    missed = _events(3, prefix="b")
    assert missed == []  # nothing is enqueued for a disabled endpoint
    gone.status_after = 200
    r = api.patch(f"/api/v1/subscriptions/{sub_id}", json={"enabled": True, "replay_missed": True})
    assert r.status_code == 200 and r.json()["missed"] == 3 and r.json()["replayed"] == 3
    _wait(lambda: len(gone.verified) == 4, 90, worker)  # the 410 one was verified too, then 3 replayed
    items = api.get(f"/api/v1/subscriptions/{sub_id}/deliveries").json()["items"]
    replayed = {x["webhook_id"] for x in items if x["replays"] == 1}
    assert replayed == {v["id"] for v in gone.verified[1:]}


def test_a_hanging_endpoint_does_not_delay_the_others(
    api: TestClient, server: LocalServer, worker: Proc
) -> None:
    fast, slow = Receiver(), Receiver()
    release = threading.Event()

    def hang(req: Request) -> Response:
        release.wait(4)  # under the 5 s timeout: the request holds its worker the whole time
        return slow(req)

    server.routes["/fast"], server.routes["/hang"] = fast, hang
    fast_id, fast.secret = subscribe(api, server.url("/fast"))
    slow_id, slow.secret = subscribe(api, server.url("/hang"), max_concurrent=1)
    _events(20)
    try:
        _wait(lambda: len(fast.verified) == 20, 30, worker)
        # 20 fast deliveries went through while the hanging endpoint took at most a few, one at a time
        assert len(slow.ids) < 10
    finally:
        release.set()
    _wait(lambda: len({v["id"] for v in slow.verified}) >= 20, 90, worker)
    _assert_nothing_lost(api, fast, _ids_of(api, fast_id))
    _assert_nothing_lost(api, slow, _ids_of(api, slow_id))


def _ids_of(api: TestClient, sub_id: int) -> list[int]:
    items = api.get(f"/api/v1/subscriptions/{sub_id}/deliveries", params={"limit": 200}).json()["items"]
    return [x["id"] for x in items]


def test_kill_9_of_the_worker_during_a_burst_loses_nothing(
    api: TestClient, server: LocalServer, redis_client: redis.Redis
) -> None:
    receiver = Receiver()
    server.routes["/hook"] = receiver
    _, receiver.secret = subscribe(api, server.url("/hook"))
    victim = processes.worker("notifier", name="victim")
    try:
        ids = _events(200)
        _wait(lambda: len(receiver.verified) >= 20, 60, victim)
    finally:
        victim.kill9()
    assert len(receiver.verified) < 200, "everything was delivered before the kill; nothing was tested"
    rescuer = processes.worker("notifier", beat=True, name="rescuer")
    try:
        _wait(lambda: len({v["id"] for v in receiver.verified}) >= 200, 120, rescuer)
    finally:
        rescuer.stop()
    _assert_nothing_lost(api, receiver, ids)


def test_redis_flushed_during_a_burst_the_sweep_still_delivers(
    api: TestClient, server: LocalServer, worker: Proc, redis_client: redis.Redis
) -> None:
    receiver = Receiver()

    def slowish(req: Request) -> Response:
        time.sleep(0.02)
        return receiver(req)

    server.routes["/hook"] = slowish
    _, receiver.secret = subscribe(api, server.url("/hook"))
    ids = _events(200)
    _wait(lambda: len(receiver.verified) >= 10, 60, worker)
    redis_client.flushdb()
    assert len(receiver.verified) < 200, "everything was delivered before the flush; nothing was tested"
    _wait(lambda: len({v["id"] for v in receiver.verified}) >= 200, 120, worker)
    _assert_nothing_lost(api, receiver, ids)
