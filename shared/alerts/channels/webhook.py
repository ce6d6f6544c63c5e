"""Signed webhooks: POST the Standard Webhooks body to an http(s) URL through the pinned outbound client.

Outbound safety: the scheme must be enabled, the host is resolved once and checked against the address
policy, the connection goes to the checked address (Host and SNI keep the name), redirects are never followed,
and each attempt has a total deadline.

The network path is `shared.outbound.post.PinnedPoster` (http.client on kept-alive sockets, a quarter of
httpx's CPU per POST); a `transport` given to the constructor (an `httpx.MockTransport` in unit tests)
sends through the pinned httpx client instead, with the same checks.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx

from shared.alerts.channels.base import (
    BODY_LIMIT,
    DEFAULT_TIMEOUT,
    AttemptResult,
    ChannelConfig,
    Message,
)
from shared.alerts.signing import webhook_headers
from shared.outbound.http import pinned_client
from shared.outbound.policy import AddressPolicy, BadSchemeError, UnsafeURLError
from shared.outbound.post import POST_ERRORS, PinnedPoster, error_kind
from shared.outbound.schemes import WEBHOOK_SCHEMES
from shared.outbound.transport import total_deadline

USER_AGENT = "Newswatch-Webhooks/1.0"
# what a failed attempt raises: reported as an AttemptResult, never raised
_FAILURES: tuple[type[Exception], ...] = (httpx.HTTPError, UnsafeURLError, ValueError, *POST_ERRORS)


def _classify(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    if isinstance(exc, UnsafeURLError):
        return "blocked"
    if isinstance(exc, POST_ERRORS):
        return error_kind(exc)
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
        schemes: frozenset[str] = frozenset(WEBHOOK_SCHEMES),
    ) -> None:
        self.policy = policy or AddressPolicy()
        self.timeout = timeout
        self.schemes = frozenset(schemes) & frozenset(WEBHOOK_SCHEMES)
        # `transport` replaces the network in unit tests; the policy checks and pins either way.
        self._client = (
            pinned_client(
                self.policy,
                timeout=timeout,
                transport=transport,
                max_connections=max_connections,
                headers={"user-agent": USER_AGENT},
            )
            if transport is not None
            else None
        )
        self._poster = PinnedPoster(self.policy, timeout=timeout, read_limit=BODY_LIMIT)

    @classmethod
    def from_config(cls, config: ChannelConfig) -> WebhookChannel:
        """The webhook channel of this configuration."""
        return cls(policy=config.policy, timeout=config.timeout, schemes=config.schemes)

    def check(self, target: str) -> None:
        """Raise UnsafeURLError unless the target is an enabled http(s) URL whose host the policy allows."""
        if urlsplit(target).scheme.lower() not in self.schemes:
            raise BadSchemeError(f"webhook URLs must be http(s), and the scheme enabled: {target[:100]!r}")
        self.policy.check_url(target)

    def send(self, message: Message) -> AttemptResult:
        """Sign and POST one attempt; read at most 4 KB of the answer."""
        # the header carries whole seconds (Standard Webhooks); the body's `sent` keeps the exact time
        now = message.timestamp or time.time()
        ts = int(now)
        msg = message if message.timestamp else _with_ts(message, now)
        body = msg.body().encode()
        started = time.monotonic()
        try:
            if urlsplit(message.target).scheme.lower() not in self.schemes:
                raise BadSchemeError("the webhook scheme is not enabled (NEWSWATCH_CHANNEL_SCHEMES)")
            headers = webhook_headers(msg_id=message.msg_id, timestamp=ts, body=body, secrets=message.secrets)
            if self._client is None:
                headers["user-agent"] = USER_AGENT
                answer = self._poster.post(message.target, body, headers)
                return AttemptResult(
                    status_code=answer.status_code,
                    duration_ms=(time.monotonic() - started) * 1000,
                    response_headers=answer.headers,
                    response_body=answer.body.decode("utf-8", "replace"),
                )
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
        except _FAILURES as exc:
            return AttemptResult(
                duration_ms=(time.monotonic() - started) * 1000,
                error=f"{type(exc).__name__}: {exc}"[:1000],
                error_kind=_classify(exc),
            )

    def close(self) -> None:
        """Close pooled connections."""
        self._poster.close()
        if self._client is not None:
            self._client.close()


def _with_ts(message: Message, ts: float) -> Message:
    return Message(
        target=message.target,
        msg_id=message.msg_id,
        event_type=message.event_type,
        data=message.data,
        secrets=message.secrets,
        timestamp=ts,
    )
