"""Channels against real local servers: webhook receiver (pinned, timeouts), Apprise to SMTP and JSON."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from shared.alerts.channels import AppriseChannel, Message, WebhookChannel
from shared.alerts.signing import generate_secret
from shared.outbound.policy import AddressPolicy, parse_networks
from tests.support.listeners import smtp_server

pytestmark = pytest.mark.integration

LOCAL = AddressPolicy(allowed_networks=parse_networks("127.0.0.0/8"))


class Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.delay = 0.0
        self.status = 200
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("content-length", 0))
                body = self.rfile.read(n)
                outer.requests.append((dict(self.headers.items()), body))
                time.sleep(outer.delay)
                try:
                    self.send_response(outer.status)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _msg(target: str, secret: str) -> Message:
    return Message(target=target, msg_id="msg_1", event_type="ping", data={"x": 1}, secrets=(secret,))


def test_webhook_to_local_receiver_verifies(receiver: Receiver) -> None:
    secret = generate_secret()
    ch = WebhookChannel(policy=LOCAL, timeout=5)
    res = ch.send(_msg(receiver.url, secret))
    ch.close()
    assert res.ok, res
    headers, body = receiver.requests[0]
    assert Webhook(secret).verify(body, headers)["data"] == {"x": 1}


def test_webhook_timeout_is_bounded(receiver: Receiver) -> None:
    receiver.delay = 3
    ch = WebhookChannel(policy=LOCAL, timeout=0.5)
    res = ch.send(_msg(receiver.url, generate_secret()))
    ch.close()
    assert res.error_kind == "timeout" and res.status_code is None


def test_loopback_refused_without_allowed_networks(receiver: Receiver) -> None:
    ch = WebhookChannel(policy=AddressPolicy(), timeout=2)
    res = ch.send(_msg(receiver.url, generate_secret()))
    ch.close()
    assert res.error_kind == "blocked" and receiver.requests == []


def test_apprise_email_to_local_smtp() -> None:
    with smtp_server() as (box, port):
        target = f"mailto://127.0.0.1:{port}?from=nw@example.com&to=ops@example.com&mode=insecure"
        res = AppriseChannel(policy=LOCAL, timeout=5).send(
            Message(target=target, msg_id="m", event_type="ping", data={"message": "hello there"})
        )
    assert res.ok, res
    assert len(box.messages) == 1
    text = box.messages[0].content.decode()
    assert "Subject: Newswatch test" in text and "ops@example.com" in box.messages[0].rcpt_tos


def test_apprise_chat_service_stand_in(receiver: Receiver) -> None:
    port = receiver.server.server_address[1]
    res = AppriseChannel(policy=LOCAL, timeout=5).send(
        Message(target=f"json://127.0.0.1:{port}/", msg_id="m", event_type="ping", data={"message": "hi"})
    )
    assert res.ok, res
    body = json.loads(receiver.requests[0][1])
    assert body["title"] == "Newswatch test" and body["message"] == "hi"


def test_apprise_failure_reported(receiver: Receiver) -> None:
    receiver.status = 500
    port = receiver.server.server_address[1]
    res = AppriseChannel(policy=LOCAL, timeout=5).send(
        Message(target=f"json://127.0.0.1:{port}/", msg_id="m", event_type="ping", data={})
    )
    assert not res.ok and res.error


def test_apprise_private_host_refused() -> None:
    res = AppriseChannel(policy=AddressPolicy(resolver=lambda h, p: ["10.0.0.1"])).send(
        Message(target="json://chat.internal.example/", msg_id="m", event_type="ping", data={})
    )
    assert res.error_kind == "blocked"
