"""Delivery channels: signed webhooks (webhook.py), vetted Apprise URLs (apprise_channel.py), the registry.

The public names are gathered here; registry.py says how to add a channel.
"""

from shared.alerts.channels.apprise_channel import AppriseChannel
from shared.alerts.channels.base import (
    BODY_LIMIT,
    DEFAULT_TIMEOUT,
    AttemptResult,
    Channel,
    ChannelConfig,
    ChannelType,
    Message,
)
from shared.alerts.channels.registry import CHANNEL_TYPES, ChannelRegistry, registry, registry_for
from shared.alerts.channels.webhook import WebhookChannel

__all__ = [
    "BODY_LIMIT",
    "CHANNEL_TYPES",
    "DEFAULT_TIMEOUT",
    "AppriseChannel",
    "AttemptResult",
    "Channel",
    "ChannelConfig",
    "ChannelRegistry",
    "ChannelType",
    "Message",
    "WebhookChannel",
    "registry",
    "registry_for",
]
