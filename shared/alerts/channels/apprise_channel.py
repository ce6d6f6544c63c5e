"""Notification URLs through Apprise (e-mail, Slack, Telegram, Discord, ntfy, JSON…), vetted and pinned.

A target is usable only when its scheme is enabled (`NEWSWATCH_CHANNEL_SCHEMES`) and vetted
(shared.outbound.schemes). Apprise's own parser reads the URL (so what is checked is what Apprise will use):
every query parameter must be one the scheme's rule allows, and every host the URL names (its host part, host
parameters such as `smtp=`, and the hosts of the plugin object Apprise builds from it) is resolved and checked
against the address policy. The send then runs inside `pinned_resolution`, so each connection the plugin opens
goes to a checked address (fixed vendor hosts and redirects included) and nothing else resolves. The check
runs when a subscription is stored and again before every send, since DNS answers change.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from shared.alerts import payload as payloads
from shared.alerts.channels.base import (
    BODY_LIMIT,
    DEFAULT_TIMEOUT,
    AttemptResult,
    ChannelConfig,
    Message,
)
from shared.outbound.guard import pinned_resolution
from shared.outbound.policy import AddressPolicy, BadSchemeError, UnsafeURLError
from shared.outbound.schemes import APPRISE_RULES, DEFAULT_CHANNEL_SCHEMES, REFUSED_EVERYWHERE, SchemeRule

_APPRISE_LOCK = threading.Lock()
_apprise_mod: Any = None


def load_apprise() -> Any:
    """Import Apprise and load its plugins once, silencing their import-time deprecation warnings."""
    global _apprise_mod
    with _APPRISE_LOCK:
        if _apprise_mod is None:
            # Imported here, not at the top: Apprise loads ~190 plugin modules, which only the notifier and
            # the subscription routes need. Its plugins import imghdr (deprecated in 3.11); pytest makes
            # warnings errors.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                import apprise
                import apprise.plugins

                apprise.plugins.N_MGR.load_modules()
            _apprise_mod = apprise
    return _apprise_mod


def known_schemes() -> set[str]:
    """Every URL scheme the installed Apprise has a plugin for."""
    return set(load_apprise().plugins.N_MGR.schemas())


@dataclass
class Prepared:
    """A checked target: the plugin object that will send, and the checked addresses of each host it names."""

    plugin: Any
    pins: dict[str, list[str]]


def _params(rule: SchemeRule, qsd: dict[str, str], scheme: str) -> list[str]:
    """The host-parameter values of the query; raises BadSchemeError for a parameter the rule lacks."""
    hosts: list[str] = []
    for key, value in qsd.items():
        if key and key[0] in "+-:":
            if key[0] not in rule.prefixes:
                raise BadSchemeError(f"{scheme}:// does not take {key[0]}-prefixed parameters ({key!r})")
            continue
        if key in REFUSED_EVERYWHERE or key in rule.refused or key not in rule.params:
            raise BadSchemeError(f"{scheme}:// parameter {key!r} is not allowed (see the README's channels)")
        if key in rule.host_params and value:
            hosts.append(value)
    return hosts


class AppriseChannel:
    """Sends the human-readable form of an event to a vetted Apprise URL."""

    def __init__(
        self,
        *,
        policy: AddressPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        schemes: frozenset[str] = frozenset(DEFAULT_CHANNEL_SCHEMES),
    ) -> None:
        self.policy = policy or AddressPolicy()
        self.timeout = timeout
        self.schemes = frozenset(schemes) & frozenset(APPRISE_RULES)

    @classmethod
    def from_config(cls, config: ChannelConfig) -> AppriseChannel:
        """The Apprise channel of this configuration."""
        return cls(policy=config.policy, timeout=config.timeout, schemes=config.schemes)

    def prepare(self, target: str) -> Prepared:
        """Parse with Apprise, check scheme, parameters and every host; raises UnsafeURLError."""
        apprise = load_apprise()
        scheme = urlsplit(target).scheme.lower()
        if scheme not in self.schemes:
            raise BadSchemeError(
                f"{scheme or 'no'} scheme: not an enabled channel (NEWSWATCH_CHANNEL_SCHEMES: "
                f"{', '.join(sorted(self.schemes)) or 'none'})"
            )
        results = apprise.plugins.url_to_dict(target)
        if not results or str(results.get("schema", "")).lower() != scheme:
            raise BadSchemeError(f"not a valid {scheme}:// notification URL")
        rule = APPRISE_RULES[scheme]
        hosts: list[tuple[str, int | None]] = [
            (h, None) for h in _params(rule, dict(results.get("qsd") or {}), scheme)
        ]
        plugin = apprise.Apprise.instantiate(results, asset=_asset(apprise))
        if plugin is None:
            raise BadSchemeError(f"not a valid {scheme}:// notification URL (Apprise refused it)")
        if rule.netloc:
            if not results.get("host"):
                raise BadSchemeError(f"{scheme}:// needs a host")
            hosts.append((str(results["host"]), None))
        hosts += rule.connects(plugin)
        pins: dict[str, list[str]] = {}
        for host, port in hosts:
            key = host.strip("[]").lower().rstrip(".")
            if key not in pins:
                pins[key] = self.policy.check_host(key, port or 0)
        return Prepared(plugin=plugin, pins=pins)

    def check(self, target: str) -> None:
        """Raise UnsafeURLError unless the target may be used (see the module docstring)."""
        self.prepare(target)

    def send(self, message: Message) -> AttemptResult:
        """Check the target again, then notify through Apprise with every connection pinned."""
        apprise = load_apprise()
        started = time.monotonic()
        try:
            prepared = self.prepare(message.target)
        except UnsafeURLError as exc:
            return AttemptResult(error=str(exc)[:1000], error_kind="blocked")
        title, body = payloads.format_message(message.event_type, message.data)
        app = apprise.Apprise(asset=_asset(apprise))
        app.add(prepared.plugin)
        logs: list[str] = []
        with pinned_resolution(self.policy, prepared.pins) as scope:
            try:
                result = app.notify(body=body, title=title, timeout=self.timeout, log_callback=_collect(logs))
            except Exception as exc:  # Apprise plugins raise anything; a channel must report, not raise
                return AttemptResult(
                    duration_ms=(time.monotonic() - started) * 1000,
                    error=f"{type(exc).__name__}: {exc}"[:1000],
                    error_kind="blocked" if scope.refused else "channel",
                )
        ok = bool(result) and not scope.refused
        error = None
        if scope.refused:
            error = "refused by the outbound policy: " + " | ".join(scope.refused[:3])
        elif not ok:
            error = "Apprise notification failed: " + " | ".join(logs[-3:])
        return AttemptResult(
            status_code=200 if ok else None,
            duration_ms=(time.monotonic() - started) * 1000,
            response_body="\n".join(logs)[-BODY_LIMIT:],
            error=error[:1000] if error else None,
            error_kind=None if ok else ("blocked" if scope.refused else "channel"),
        )

    def close(self) -> None:
        """Nothing pooled: Apprise opens its connections per send."""


def _asset(apprise: Any) -> Any:
    # No redirects (a redirect is a second destination), nothing written to our disk, no keys generated.
    return apprise.AppriseAsset(
        http_redirects=False, storage_mode="memory", pgp_autogen=False, pem_autogen=False
    )


def _collect(logs: list[str]) -> Callable[..., None]:
    def cb(entry: Any, _plugin: Any = None) -> None:
        logs.append(str(getattr(entry, "message", entry))[:500])

    return cb
