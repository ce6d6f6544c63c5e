import json

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from shared.alerts.channels import (
    BODY_LIMIT,
    AppriseChannel,
    AttemptResult,
    ChannelConfig,
    ChannelRegistry,
    Message,
    WebhookChannel,
)
from shared.alerts.signing import generate_secret
from shared.outbound.policy import AddressPolicy, UnsafeURLError

PUBLIC = AddressPolicy(resolver=lambda host, port: ["93.184.216.34"])
PRIVATE = AddressPolicy(resolver=lambda host, port: ["10.0.0.1"])


def _msg(target: str = "https://hooks.example.com/in", secrets: tuple[str, ...] = ()) -> Message:
    return Message(
        target=target,
        msg_id="msg_abc",
        event_type="ping",
        data={"subscription_id": 1},
        secrets=secrets or (generate_secret(),),
    )


def test_webhook_is_signed_and_answer_recorded() -> None:
    secret = generate_secret()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, headers={"x-r": "1"}, text="ok")

    ch = WebhookChannel(policy=PUBLIC, transport=httpx.MockTransport(handler))
    res = ch.send(_msg(secrets=(secret,)))
    assert res.ok and res.status_code == 202
    assert res.response_headers["x-r"] == "1" and res.response_body == "ok"
    req = seen[0]
    body = Webhook(secret).verify(req.content, dict(req.headers))
    assert body["type"] == "ping" and body["data"] == {"subscription_id": 1}
    assert req.headers["webhook-id"] == "msg_abc"


def test_body_is_capped_at_4kb_and_retry_after_exposed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "30"}, content=b"x" * 100_000)

    res = WebhookChannel(policy=PUBLIC, transport=httpx.MockTransport(handler)).send(_msg())
    assert not res.ok and res.status_code == 503
    assert len(res.response_body) == BODY_LIMIT
    assert res.retry_after == "30"


def test_redirects_are_not_followed() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(302, headers={"location": "http://10.0.0.1/"})

    res = WebhookChannel(policy=PUBLIC, transport=httpx.MockTransport(handler)).send(_msg())
    assert res.status_code == 302 and not res.ok
    assert len(calls) == 1


@pytest.mark.parametrize("inject", [True, False])
def test_private_address_refused_before_connecting(inject: bool) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200)

    transport = httpx.MockTransport(handler) if inject else None
    res = WebhookChannel(policy=PRIVATE, transport=transport).send(_msg("http://internal.example.com/x"))
    assert res.error_kind == "blocked" and res.status_code is None
    assert calls == []


def test_non_http_scheme_refused() -> None:
    res = WebhookChannel(policy=PUBLIC, transport=httpx.MockTransport(lambda r: httpx.Response(200))).send(
        _msg("file:///etc/passwd")
    )
    assert res.error_kind == "blocked"


def test_timeout_reported_not_raised() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    res = WebhookChannel(policy=PUBLIC, transport=httpx.MockTransport(handler)).send(_msg())
    assert res.error_kind == "timeout" and not res.ok


def test_each_attempt_signed_anew_with_same_id() -> None:
    stamps = []

    def handler(request: httpx.Request) -> httpx.Response:
        stamps.append((request.headers["webhook-id"], request.headers["webhook-timestamp"]))
        return httpx.Response(500)

    ch = WebhookChannel(policy=PUBLIC, transport=httpx.MockTransport(handler))
    base = _msg()
    for ts in (1_700_000_000, 1_700_000_060):
        ch.send(Message(**{**base.__dict__, "timestamp": float(ts)}))
    assert [s[0] for s in stamps] == ["msg_abc", "msg_abc"]
    assert stamps[0][1] != stamps[1][1]


class FakeChannel:
    schemes = frozenset({"fake"})

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def check(self, target: str) -> None:
        pass

    def send(self, message: Message) -> AttemptResult:
        self.sent.append(message)
        return AttemptResult(status_code=200)

    def close(self) -> None:
        pass


def test_registry_routes_by_scheme_and_accepts_fakes() -> None:
    reg = ChannelRegistry(ChannelConfig(policy=PUBLIC))
    fake = FakeChannel()
    reg.register("fake", fake)
    assert reg.send(_msg("fake://x")).ok
    assert fake.sent[0].target == "fake://x"
    assert isinstance(reg.for_target("https://a.example/"), WebhookChannel)
    assert isinstance(reg.for_target("mailto://u:p@example.com"), AppriseChannel)
    reg.unregister("fake")
    refused = reg.send(_msg("fake://x"))
    assert refused.error_kind == "blocked" and "not an enabled channel scheme" in (refused.error or "")


def test_message_body_is_envelope() -> None:
    m = Message(target="x", msg_id="m", event_type="alert.created", data={"latency": {"matched": None}})
    body = json.loads(m.body())
    assert body["type"] == "alert.created" and body["data"]["latency"]["sent"]


def test_registry_check() -> None:
    reg = ChannelRegistry(ChannelConfig(policy=PUBLIC))
    reg.check("https://hooks.example.com/x")
    reg.check("mailto://user:pass@example.com?to=a@example.com")
    reg.register("fake", FakeChannel())
    reg.check("fake://anything")
    for bad in ("ftp-nope://x", "no-scheme", "rsyslog://logs.example.com"):
        with pytest.raises(UnsafeURLError):
            reg.check(bad)
    private = ChannelRegistry(ChannelConfig(policy=PRIVATE))
    for bad in ("http://internal.example/", "json://chat.internal.example/"):
        with pytest.raises(UnsafeURLError):
            private.check(bad)
