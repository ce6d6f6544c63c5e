"""The channel registry: the table of channel types, built into one registry per process at start-up.

Adding a delivery channel is one module (a class with `schemes`, `check`, `send`, `close` and a
`from_config(config)` constructor, see `Channel` in base.py) plus one line in `CHANNEL_TYPES` below; its
schemes must also be vetted (shared/outbound/schemes.py) and enabled in NEWSWATCH_CHANNEL_SCHEMES. Tests
register a fake channel for a scheme of their own (`registry.register("fake", FakeChannel())`) instead of
patching.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from shared.alerts.channels.apprise_channel import AppriseChannel
from shared.alerts.channels.base import AttemptResult, Channel, ChannelConfig, ChannelType, Message
from shared.alerts.channels.webhook import WebhookChannel
from shared.config import Settings
from shared.outbound.policy import BadSchemeError, UnsafeURLError

CHANNEL_TYPES: tuple[ChannelType, ...] = (
    WebhookChannel.from_config,
    AppriseChannel.from_config,
)


class ChannelRegistry:
    """Maps a target URL's scheme to the channel that sends to it."""

    def __init__(self, config: ChannelConfig | None = None, types: tuple[ChannelType, ...] = CHANNEL_TYPES):
        self._types = types
        self._lock = threading.Lock()
        self._registered: dict[str, Channel] = {}
        self._config: ChannelConfig | None = None
        self._channels: list[Channel] = []
        self.configure(config or ChannelConfig())

    @property
    def config(self) -> ChannelConfig | None:
        """The configuration the built-in channels were built with."""
        return self._config

    def configure(self, config: ChannelConfig) -> None:
        """Build every channel type of the table with this configuration (closing the previous ones)."""
        channels = [make(config) for make in self._types]
        with self._lock:
            old, self._channels, self._config = self._channels, channels, config
        for channel in old:
            channel.close()

    def register(self, scheme: str, channel: Channel) -> None:
        """Use `channel` for targets with this URL scheme (a fake channel in tests)."""
        with self._lock:
            self._registered[scheme.lower()] = channel

    def unregister(self, scheme: str) -> None:
        """Forget a registered scheme."""
        with self._lock:
            self._registered.pop(scheme.lower(), None)

    def schemes(self) -> set[str]:
        """Every scheme a target may use now."""
        with self._lock:
            return set(self._registered).union(*(c.schemes for c in self._channels))

    def for_target(self, target: str) -> Channel:
        """The channel that sends to this target; raises BadSchemeError when no channel takes its scheme."""
        scheme = urlsplit(target).scheme.lower()
        with self._lock:
            channel = self._registered.get(scheme) or next(
                (c for c in self._channels if scheme in c.schemes), None
            )
            enabled = sorted(set(self._registered).union(*(c.schemes for c in self._channels)))
        if not scheme:
            raise BadSchemeError(f"not a URL: {target[:100]!r}")
        if channel is None:
            raise BadSchemeError(
                f"{scheme}:// is not an enabled channel scheme "
                f"(NEWSWATCH_CHANNEL_SCHEMES: {', '.join(enabled)})"
            )
        return channel

    def check(self, target: str) -> None:
        """Raise UnsafeURLError unless some channel may send to this target now."""
        self.for_target(target).check(target)

    def send(self, message: Message) -> AttemptResult:
        """Send through the target's channel; a scheme no longer enabled is reported as blocked."""
        try:
            channel = self.for_target(message.target)
        except UnsafeURLError as exc:
            return AttemptResult(error=str(exc)[:1000], error_kind="blocked")
        return channel.send(message)

    def close(self) -> None:
        """Close the built-in channels."""
        with self._lock:
            channels, self._channels = self._channels, []
        for channel in channels:
            channel.close()


registry = ChannelRegistry()
_CONFIG_LOCK = threading.Lock()


def registry_for(settings: Settings) -> ChannelRegistry:
    """The process registry, its channels built from these settings (rebuilt when they change)."""
    config = ChannelConfig.from_settings(settings)
    with _CONFIG_LOCK:
        if registry.config != config:
            registry.configure(config)
    return registry
