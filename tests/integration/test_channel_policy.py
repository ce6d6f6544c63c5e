"""Issue 11 §1 through the API: channel URLs cannot reach what the address policy refuses.

Only loopback listeners and injected resolvers: a listener on 127.0.0.1 records every connection, and the
allowlist is narrowed (127.0.0.2/32, 127.0.0.3/32) so that 127.0.0.1 stands for a private address. Names in
URLs are `localhost` or IP literals only, so even a broken policy could not send a lookup off this machine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.api.deps import get_channels
from shared.alerts.channels import ChannelConfig, ChannelRegistry
from shared.alerts.channels.apprise_channel import known_schemes
from shared.config import get_settings
from shared.outbound.policy import AddressPolicy, parse_networks
from shared.outbound.schemes import APPRISE_RULES
from tests.support.listeners import HTTP_OK, TcpRecorder, smtp_server

pytestmark = pytest.mark.integration

# The issue's examples, each aimed at the recording listener on 127.0.0.1 (PORT is filled in).
ISSUE_EXAMPLES = [
    "gotify://127.0.0.1:PORT/token",
    "gotifys://127.0.0.1:PORT/token",
    "rocket://user:pass@127.0.0.1:PORT/room",
    "matrix://user:pass@127.0.0.1:PORT/room",
    "mmost://127.0.0.1:PORT/token",
    "ncloud://user:pass@127.0.0.1:PORT/admin",
    "nctalk://user:pass@127.0.0.1:PORT/roomid",
    "kodi://user:pass@127.0.0.1:PORT",
    "hassio://127.0.0.1:PORT/accesstoken",
    "signal://127.0.0.1:PORT/+15551234567/+15557654321",
    "emby://user:pass@127.0.0.1:PORT",
    "rsyslog://127.0.0.1:PORT",
    "apprise://127.0.0.1:PORT/token",
    "json://127.0.0.1:PORT/hook",
    "ntfy://127.0.0.1:PORT/topic",
    "http://127.0.0.1:PORT/hook",
    # the host part is allowed; the SMTP server named in a parameter is not
    "mailto://u:p@127.0.0.2/d@example.org?smtp=127.0.0.1&port=PORT",
    "mailtos://u:p@127.0.0.2:PORT/d@example.org?smtp=127.0.0.1",
]


@pytest.fixture
def listener() -> Iterator[TcpRecorder]:
    with TcpRecorder("127.0.0.1", reply=HTTP_OK) as rec:
        yield rec


@pytest.fixture
def narrowed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Set NEWSWATCH_ALLOWED_NETWORKS (and any other setting) for the API under test."""

    def setenv(networks: str, **more: str) -> None:
        monkeypatch.setenv("NEWSWATCH_ALLOWED_NETWORKS", networks)
        for key, value in more.items():
            monkeypatch.setenv(f"NEWSWATCH_{key.upper()}", value)
        get_settings.cache_clear()

    yield setenv
    monkeypatch.undo()
    get_settings.cache_clear()


class FlipResolver:
    """Answers every name with the first list of addresses, until `flip()`; then with the second."""

    def __init__(self, first: list[str], then: list[str] | None = None) -> None:
        self.answers, self.then, self.calls = first, then, 0

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return list(self.answers)

    def flip(self) -> None:
        assert self.then is not None
        self.answers = self.then


def _channels(api: TestClient, allowed: str, resolver: Callable[[str, int], list[str]]) -> None:
    policy = AddressPolicy(allowed_networks=tuple(parse_networks(allowed)), resolver=resolver)
    registry = ChannelRegistry(ChannelConfig(policy=policy, timeout=5))
    api.app.dependency_overrides[get_channels] = lambda: registry  # type: ignore[attr-defined]


def _create(api: TestClient, url: str) -> Any:
    return api.post("/api/v1/subscriptions", json={"url": url})


def test_issue_examples_are_refused_and_nothing_connects(
    api: TestClient, listener: TcpRecorder, narrowed: Callable[..., None]
) -> None:
    narrowed("127.0.0.2/32")
    for example in ISSUE_EXAMPLES:
        url = example.replace("PORT", str(listener.port))
        r = _create(api, url)
        assert r.status_code == 422, (url, r.status_code, r.text)
        assert r.json()["detail"], url
    assert api.get("/api/v1/subscriptions").json()["items"] == []
    assert listener.connections == []


def test_vetted_schemes_pass_once_loopback_is_allowed_and_the_rest_never(
    api: TestClient, listener: TcpRecorder, narrowed: Callable[..., None]
) -> None:
    narrowed("127.0.0.0/8")
    port = listener.port
    for url in (
        f"gotify://127.0.0.1:{port}/token",
        f"mmost://127.0.0.1:{port}/token",
        f"json://127.0.0.1:{port}/hook",
        f"mailto://u:p@127.0.0.1:{port}?smtp=127.0.0.1&from=nw@example.com&to=desk@example.com",
    ):
        assert _create(api, url).status_code == 201, url
    for url in (
        f"kodi://127.0.0.1:{port}",
        f"matrix://u:p@127.0.0.1:{port}/room",
        f"rsyslog://127.0.0.1:{port}",
    ):
        r = _create(api, url)
        assert r.status_code == 422 and "not an enabled channel scheme" in r.json()["detail"], url
    assert listener.connections == []


def test_every_scheme_apprise_knows_is_vetted_or_refused(
    api: TestClient, listener: TcpRecorder, narrowed: Callable[..., None]
) -> None:
    narrowed("127.0.0.2/32")
    port = listener.port
    schemes = sorted(known_schemes())
    assert len(schemes) > 100  # the installed Apprise, every plugin loaded
    for scheme in schemes:
        for url in (
            f"{scheme}://user:pass@127.0.0.1:{port}/a/b/c",
            # host-bearing parameters, on a target whose host part would be allowed
            f"{scheme}://user:pass@127.0.0.2/a/b/c?smtp=127.0.0.1&server=127.0.0.1&host=127.0.0.1&to=127.0.0.1",
        ):
            r = _create(api, url)
            rule = APPRISE_RULES.get(scheme)
            # 127.0.0.1 may pass only where the URL's host part is no host at all (a Slack or Telegram token)
            harmless = rule is not None and not rule.netloc and r.status_code == 201 and "?" not in url
            assert r.status_code == 422 or harmless, (url, r.text)
    assert listener.connections == []


def test_a_stored_target_is_checked_again_before_each_send(
    api: TestClient, listener: TcpRecorder, narrowed: Callable[..., None]
) -> None:
    narrowed("127.0.0.0/8")
    port = listener.port
    ids = [
        _create(api, url).json()["id"]
        for url in (
            f"gotify://127.0.0.1:{port}/token",
            f"json://127.0.0.1:{port}/hook",
            f"http://127.0.0.1:{port}/hook",
            f"mailto://u:p@127.0.0.1:{port}?smtp=127.0.0.1&from=nw@example.com&to=desk@example.com",
        )
    ]
    narrowed("127.0.0.2/32")  # the operator narrows the allowlist: stored targets must not be reached
    for sub_id in ids:
        res = api.post(f"/api/v1/subscriptions/{sub_id}/test").json()
        assert res["ok"] is False and "127.0.0.1" in res["error"], res
    assert listener.connections == []
    narrowed("127.0.0.0/8", channel_schemes="http,https")  # ... or turns a scheme off
    res = api.post(f"/api/v1/subscriptions/{ids[0]}/test").json()
    assert res["ok"] is False and "NEWSWATCH_CHANNEL_SCHEMES" in res["error"], res
    assert listener.connections == []


def test_a_changed_dns_answer_is_refused_at_send_time(api: TestClient, listener: TcpRecorder) -> None:
    # localhost answers 127.0.0.2 (allowed) when the subscription is stored, then 127.0.0.1 (refused)
    resolver = FlipResolver(["127.0.0.2"], then=["127.0.0.1"])
    _channels(api, "127.0.0.2/32", resolver)
    port = listener.port
    urls = [f"json://localhost:{port}/hook", f"http://localhost:{port}/hook", f"gotify://localhost:{port}/t"]
    ids = [_create(api, url).json()["id"] for url in urls]
    resolver.flip()
    for sub_id in ids:
        res = api.post(f"/api/v1/subscriptions/{sub_id}/test").json()
        assert res["ok"] is False and "127.0.0.1" in res["error"], res
        log = api.get(f"/api/v1/subscriptions/{sub_id}/deliveries").json()["items"]
        assert log and "127.0.0.1" in (log[0]["last_error"] or "")
    assert listener.connections == []


def _pair(host: str) -> tuple[TcpRecorder, TcpRecorder]:
    """A listener on `host` and a recorder on 127.0.0.1 with the same port (where an unpinned client goes)."""
    for _ in range(20):
        target = TcpRecorder(host, reply=HTTP_OK)
        try:
            return target, TcpRecorder("127.0.0.1", reply=HTTP_OK, port=target.port)
        except OSError:
            target.close()
    raise RuntimeError("no port free on both addresses")


def test_apprise_connections_go_to_the_checked_address(api: TestClient) -> None:
    # The policy's resolver says localhost is 127.0.0.3; the system says 127.0.0.1. A pinned send reaches
    # 127.0.0.3 and still names localhost in its Host header.
    _channels(api, "127.0.0.3/32", lambda host, port: ["127.0.0.3"])
    target, elsewhere = _pair("127.0.0.3")
    try:
        for url in (f"json://localhost:{target.port}/hook", f"http://localhost:{target.port}/hook"):
            res = api.post(f"/api/v1/subscriptions/{_create(api, url).json()['id']}/test").json()
            assert res["ok"] is True, (url, res)
        assert len(target.connections) == 2
        assert all(f"host: localhost:{target.port}" in c.data.decode().lower() for c in target.connections)
        assert elsewhere.connections == []
    finally:
        target.close()
        elsewhere.close()


def test_email_goes_to_the_checked_smtp_address(api: TestClient) -> None:
    _channels(api, "127.0.0.3/32", lambda host, port: ["127.0.0.3"])
    with smtp_server("127.0.0.3") as (box, port):
        url = (
            f"mailto://localhost:{port}?smtp=localhost&from=nw@example.com&to=desk@example.com&mode=insecure"
        )
        res = api.post(f"/api/v1/subscriptions/{_create(api, url).json()['id']}/test").json()
    assert res["ok"] is True, res
    assert [m.rcpt_tos for m in box.messages] == [["desk@example.com"]]


def test_a_redirect_from_a_channel_is_not_followed(api: TestClient, listener: TcpRecorder) -> None:
    back = f"http://127.0.0.1:{listener.port}/x"
    redirect = f"HTTP/1.1 302 Found\r\nlocation: {back}\r\ncontent-length: 0\r\n\r\n"
    _channels(api, "127.0.0.3/32", lambda host, port: ["127.0.0.3"])
    with TcpRecorder("127.0.0.3", reply=redirect.encode()) as hop:
        for url in (f"json://localhost:{hop.port}/hook", f"http://localhost:{hop.port}/hook"):
            res = api.post(f"/api/v1/subscriptions/{_create(api, url).json()['id']}/test").json()
            assert res["ok"] is False, res
        assert len(hop.connections) == 2
    assert listener.connections == []


def test_changing_the_url_is_checked_like_creating(
    api: TestClient, listener: TcpRecorder, narrowed: Callable[..., None]
) -> None:
    narrowed("127.0.0.2/32")
    sub_id = _create(api, "http://127.0.0.2:9/hook").json()["id"]
    for url in (f"gotify://127.0.0.1:{listener.port}/t", f"http://127.0.0.1:{listener.port}/hook"):
        r = api.patch(f"/api/v1/subscriptions/{sub_id}", json={"url": url})
        assert r.status_code == 422, r.text
    assert api.get(f"/api/v1/subscriptions/{sub_id}").json()["url"] == "http://127.0.0.2:9/hook"
    r = api.patch(f"/api/v1/subscriptions/{sub_id}", json={"url": "json://127.0.0.2:9/other"})
    assert r.status_code == 200 and r.json()["subscription"]["url"] == "json://127.0.0.2:9/other"
    assert listener.connections == []


def test_unknown_parameters_of_a_vetted_scheme_are_refused(
    api: TestClient, narrowed: Callable[..., None]
) -> None:
    narrowed("127.0.0.0/8")
    for url in (
        "mailto://u:p@127.0.0.1:25?from=a@example.com&pgppub=/etc/passwd",
        "mailto://u:p@127.0.0.1:25?from=a@example.com&wkd=yes",
        "json://127.0.0.1:9/?redirect=yes",
        "slack://T1/B1/C1?template=/etc/passwd",
        "gotify://127.0.0.1:9/t?store=yes",
        "tgram://123:abc/456?server=127.0.0.1",
    ):
        r = _create(api, url)
        assert r.status_code == 422 and "not allowed" in r.json()["detail"], (url, r.text)


def test_ipv6_addresses_wrapping_a_private_ipv4_are_refused_everywhere(
    api: TestClient, narrowed: Callable[..., None]
) -> None:
    narrowed("127.0.0.2/32")
    wrapped = (
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2400:cb00::200:5efe:7f00:1",  # ISATAP id carrying 127.0.0.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "::ffff:127.0.0.1",
    )
    for addr in wrapped:
        r = api.post("/api/v1/feeds", json={"url": f"http://[{addr}]/feed"})
        assert r.status_code == 422, (addr, r.text)
        for url in (f"http://[{addr}]/hook", f"json://[{addr}]/hook", f"gotify://[{addr}]/token"):
            assert _create(api, url).status_code == 422, url
    assert api.get("/api/v1/feeds").json() == []
