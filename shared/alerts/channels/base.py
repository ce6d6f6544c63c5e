"""What every delivery channel shares: the message, the attempt's result, the protocol and its configuration.

A channel sends one `Message` and reports an `AttemptResult`; it never raises for a failed delivery (the
outbox decides what a failure means). Before a target is stored, and again before each send, the channel
`check`s it: an unusable or unsafe target raises UnsafeURLError (a 422 when a subscription is created).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from shared.alerts import payload as payloads
from shared.alerts.retry import retry_after_header
from shared.config import Settings
from shared.outbound.policy import AddressPolicy
from shared.outbound.schemes import DEFAULT_CHANNEL_SCHEMES

BODY_LIMIT = 4096
DEFAULT_TIMEOUT = 15.0


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


@dataclass(frozen=True)
class ChannelConfig:
    """What the built-in channels are built with: the address policy, a timeout, the enabled schemes."""

    policy: AddressPolicy = field(default_factory=AddressPolicy)
    timeout: float = DEFAULT_TIMEOUT
    schemes: frozenset[str] = frozenset(DEFAULT_CHANNEL_SCHEMES)

    @classmethod
    def from_settings(cls, settings: Settings) -> ChannelConfig:
        """The configuration the settings describe (policy, webhook timeout, NEWSWATCH_CHANNEL_SCHEMES)."""
        return cls(
            policy=settings.address_policy(),
            timeout=float(settings.webhook_timeout_seconds),
            schemes=frozenset(settings.channel_schemes),
        )


@runtime_checkable
class Channel(Protocol):
    """Sends to the targets of some URL schemes; `check` raises UnsafeURLError, `send` never raises."""

    schemes: frozenset[str]

    def check(self, target: str) -> None: ...

    def send(self, message: Message) -> AttemptResult: ...

    def close(self) -> None: ...


# A channel type is anything that builds a channel from the configuration (usually its `from_config`).
ChannelType = Callable[[ChannelConfig], Channel]
