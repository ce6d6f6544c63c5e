"""Delivery channels: signed webhooks over httpx, Apprise URLs (Slack, Teams, Telegram, e-mail…), a registry.

A channel sends one `Message` and reports an `AttemptResult`; it never raises for a failed delivery (the
outbox decides what a failure means). The registry maps a target URL's scheme to a channel, so tests register
a fake channel (`registry.register("fake", FakeChannel())`) instead of patching.

Outbound safety for webhooks: http(s) only, the host resolved once and checked against the `AddressPolicy`,
the connection pinned to the checked address, redirects never followed, a total deadline per request.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import httpx

from shared.alerts import payload as payloads
from shared.alerts.retry import retry_after_header
from shared.alerts.signing import webhook_headers
from shared.outbound.policy import AddressPolicy, BadSchemeError, UnsafeURLError
from shared.outbound.transport import PinnedTransport, total_deadline

BODY_LIMIT = 4096
DEFAULT_TIMEOUT = 15.0
USER_AGENT = "Newswatch-Webhooks/1.0"


@dataclass(frozen=True)
class Message:
    """One attempt to send: where, which event, the stored data, and how to sign it."""

    target: str
    msg_id: str
    event_type: str
    data: Mapping[str, Any]
    secrets: Sequence[str] = ()
    timestamp: float | None = None  # epoch seconds of this attempt; now when None

    def body(self) -> str:
        """The exact JSON body of this attempt."""
        sent = datetime.fromtimestamp(self.timestamp or time.time(), UTC)
        return payloads.render(self.event_type, self.data, sent_at=sent)


@dataclass
class AttemptResult:
    """What one attempt did: status code (None when no answer), duration, headers, first 4 KB, error."""

    status_code: int | None = None
    duration_ms: float = 0.0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    error: str | None = None
    error_kind: str | None = None  # timeout, connect, blocked, protocol, channel

    @property
    def ok(self) -> bool:
        """True for a 2xx answer (or a channel that reports plain success)."""
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retry_after(self) -> str | None:
        """The Retry-After header of the answer, if any."""
        return retry_after_header(self.response_headers)


@runtime_checkable
class Channel(Protocol):
    """Sends one message; never raises for a delivery failure."""

    def send(self, message: Message) -> AttemptResult: ...


def _classify(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    if isinstance(exc, UnsafeURLError):
        return "blocked"
    return "protocol"


class WebhookChannel:
    """POSTs the signed body with httpx; no redirects; a total deadline of `timeout` seconds per attempt."""

    def __init__(
        self,
        *,
        policy: AddressPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        max_connections: int = 100,
    ) -> None:
        self.policy = policy or AddressPolicy()
        self.timeout = timeout
        self._pinned = transport is None
        if transport is None:
            transport = PinnedTransport(self.policy)
        # With an injected transport (tests) the URL is still checked first.
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"user-agent": USER_AGENT},
            trust_env=False,
        )

    def send(self, message: Message) -> AttemptResult:
        """Sign and POST one attempt; read at most 4 KB of the answer."""
        ts = int(message.timestamp or time.time())
        msg = message if message.timestamp else _with_ts(message, ts)
        body = msg.body().encode()
        started = time.monotonic()
        try:
            if not self._pinned:
                self.policy.check_url(message.target)
            headers = webhook_headers(msg_id=message.msg_id, timestamp=ts, body=body, secrets=message.secrets)
            with (
                total_deadline(self.timeout),
                self._client.stream("POST", message.target, content=body, headers=headers) as resp,
            ):
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= BODY_LIMIT:
                        break
                if time.monotonic() - started > self.timeout:
                    raise httpx.ReadTimeout("total deadline exceeded")
                text = b"".join(chunks)[:BODY_LIMIT].decode("utf-8", "replace")
                return AttemptResult(
                    status_code=resp.status_code,
                    duration_ms=(time.monotonic() - started) * 1000,
                    response_headers=dict(resp.headers.items()),
                    response_body=text,
                )
        except (httpx.HTTPError, UnsafeURLError, ValueError) as exc:
            return AttemptResult(
                duration_ms=(time.monotonic() - started) * 1000,
                error=f"{type(exc).__name__}: {exc}"[:1000],
                error_kind=_classify(exc),
            )

    def close(self) -> None:
        """Close pooled connections."""
        self._client.close()


def _with_ts(message: Message, ts: int) -> Message:
    return Message(
        target=message.target,
        msg_id=message.msg_id,
        event_type=message.event_type,
        data=message.data,
        secrets=message.secrets,
        timestamp=float(ts),
    )


# Apprise schemes whose host part is where the request goes: those are checked against the address policy.
# Service schemes (slack://, tgram://, msteams://…) carry tokens and talk to the vendor's fixed public host.
_HOST_SCHEMES = {"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos", "ntfy", "ntfys"}


class AppriseChannel:
    """Sends the human-readable form of an event to an Apprise URL (e-mail, Slack, Teams, Telegram…)."""

    def __init__(self, *, policy: AddressPolicy | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.policy = policy or AddressPolicy()
        self.timeout = timeout

    def _check(self, target: str) -> None:
        parts = urlsplit(target)
        if parts.scheme.lower() in _HOST_SCHEMES and parts.hostname:
            port = parts.port or 80
            self.policy.check_url(f"http://{_bracket(parts.hostname)}:{port}/")

    def send(self, message: Message) -> AttemptResult:
        """Format the event as title + body and notify through Apprise."""
        apprise = _load_apprise()
        started = time.monotonic()
        try:
            self._check(message.target)
        except UnsafeURLError as exc:
            return AttemptResult(error=str(exc), error_kind="blocked")
        title, body = payloads.format_message(message.event_type, message.data)
        app = apprise.Apprise()
        if not app.add(message.target):
            return AttemptResult(error="not a valid Apprise URL", error_kind="channel")
        logs: list[str] = []
        try:
            result = app.notify(body=body, title=title, timeout=self.timeout, log_callback=_collect(logs))
        except Exception as exc:  # Apprise plugins raise anything; a channel must report, not raise
            return AttemptResult(
                duration_ms=(time.monotonic() - started) * 1000,
                error=f"{type(exc).__name__}: {exc}"[:1000],
                error_kind="channel",
            )
        ok = bool(result)
        return AttemptResult(
            status_code=200 if ok else None,
            duration_ms=(time.monotonic() - started) * 1000,
            response_body="\n".join(logs)[-BODY_LIMIT:],
            error=None if ok else ("Apprise notification failed: " + " | ".join(logs[-3:]))[:1000],
            error_kind=None if ok else "channel",
        )


_APPRISE_LOCK = threading.Lock()
_apprise_mod: Any = None


def _load_apprise() -> Any:
    """Import Apprise and load its plugins once, silencing their import-time deprecation warnings."""
    global _apprise_mod
    with _APPRISE_LOCK:
        if _apprise_mod is None:
            # Apprise plugins import imghdr (deprecated in 3.11); pytest turns warnings into errors.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                import apprise

                apprise.Apprise().add("json://localhost/")  # forces the lazy plugin load now
            _apprise_mod = apprise
    return _apprise_mod


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _collect(logs: list[str]) -> Callable[..., None]:
    def cb(entry: Any, _plugin: Any = None) -> None:
        logs.append(str(getattr(entry, "message", entry))[:500])

    return cb


class ChannelRegistry:
    """Maps URL schemes to channels; http(s) → webhook, anything else → Apprise unless registered."""

    def __init__(self) -> None:
        self._by_scheme: dict[str, Channel] = {}
        self._lock = threading.Lock()
        self._defaults: tuple[Channel, Channel] | None = None

    def configure(self, *, policy: AddressPolicy, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Set the address policy and timeout for the built-in webhook and Apprise channels."""
        with self._lock:
            old = self._defaults
            self._defaults = (
                WebhookChannel(policy=policy, timeout=timeout),
                AppriseChannel(policy=policy, timeout=timeout),
            )
        if old is not None and isinstance(old[0], WebhookChannel):
            old[0].close()

    def register(self, scheme: str, channel: Channel) -> None:
        """Use `channel` for targets with this URL scheme (e.g. "fake" for tests, or "https")."""
        with self._lock:
            self._by_scheme[scheme.lower()] = channel

    def unregister(self, scheme: str) -> None:
        """Forget a registered scheme."""
        with self._lock:
            self._by_scheme.pop(scheme.lower(), None)

    def schemes(self) -> set[str]:
        """The explicitly registered schemes."""
        with self._lock:
            return set(self._by_scheme)

    def for_target(self, target: str) -> Channel:
        """The channel that sends to this target."""
        scheme = urlsplit(target).scheme.lower()
        with self._lock:
            if scheme in self._by_scheme:
                return self._by_scheme[scheme]
            if self._defaults is None:
                self._defaults = (WebhookChannel(), AppriseChannel())
            webhook, other = self._defaults
        return webhook if scheme in ("http", "https") else other


def validate_target(target: str, policy: AddressPolicy, *, channels: ChannelRegistry | None = None) -> None:
    """Raise UnsafeURLError unless the target is a usable webhook URL, Apprise URL or registered scheme."""
    scheme = urlsplit(target).scheme.lower()
    if not scheme:
        raise BadSchemeError(f"not a URL: {target!r}")
    if scheme in (channels or registry).schemes():
        return
    if scheme in ("http", "https"):
        policy.check_url(target)
        return
    AppriseChannel(policy=policy)._check(target)
    if not _load_apprise().Apprise().add(target):
        raise BadSchemeError(f"neither an http(s) URL nor a valid Apprise URL: {scheme}://…")


registry = ChannelRegistry()
