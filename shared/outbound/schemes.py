"""The vetted delivery-channel URL schemes: for each, every part of the URL that names a host.

A subscription URL is usable only when its scheme is on the enabled list (`NEWSWATCH_CHANNEL_SCHEMES`, a
subset of the schemes below). For http(s) the host is the URL's host. For a notification URL (Apprise), the
rule of its scheme says which query parameters it may carry (any other is refused: an unknown parameter may
name a host, read a file or follow a redirect), which of them name a host (`host_params`, checked), and which
attributes of Apprise's own parsed plugin object name the hosts it will connect to (`connects`, checked, and
the connection pinned to the checked address by shared.outbound.guard). Hosts that are the vendor's own fixed
API (`fixed_hosts`: slack.com, api.telegram.org…) are checked when the connection is opened.

Each rule was written from the installed Apprise's plugin source (its `template_args`, `parse_url` and the
requests/smtplib calls of `send`); a test fails when an Apprise upgrade adds a parameter no rule classifies.
Every scheme here is pinned: its plugin connects through requests (urllib3) or smtplib, both of which
resolve through Python's socket.getaddrinfo. Schemes whose plugins resolve elsewhere (syslog/rsyslog hand the
name to sendto(); xmpp, irc, mqtt, amqp, smpp, nostr run their own socket clients) or find their host at
run time (matrix's .well-known discovery, a server's upload URL) are not vetted and are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

WEBHOOK_SCHEMES = ("http", "https")

# Parameters every vetted Apprise scheme may carry: message formatting, TLS verification, socket timeouts, and
# the credentials and port that Apprise also reads from the query.
_COMMON = frozenset(
    {"format", "overflow", "emojis", "tz", "verify", "cto", "rto", "user", "pass", "password", "port"}
)
# Parameters no scheme may carry: persistent storage on our disk, retries and waits that hold a worker, an
# "optional" flag that reports a failure as success, and redirect following (redirects are never followed).
REFUSED_EVERYWHERE = frozenset({"store", "retry", "wait", "optional", "redirect"})


def _attrs(*names: str) -> Callable[[Any], list[tuple[str, int | None]]]:
    """The plugin attributes (host names) it connects to, with its port."""

    def connects(plugin: Any) -> list[tuple[str, int | None]]:
        port = getattr(plugin, "port", None)
        port = port if isinstance(port, int) else None
        return [(str(h), port) for n in names if (h := getattr(plugin, n, None))]

    return connects


_HOST = _attrs("host")
_NONE = _attrs()


def _ntfy(plugin: Any) -> list[tuple[str, int | None]]:
    # Cloud mode talks to ntfy.sh whatever the URL's first part says (it is then a topic, not a host).
    return [] if str(getattr(plugin, "mode", "")) == "cloud" else _HOST(plugin)


@dataclass(frozen=True)
class SchemeRule:
    """What the code knows about one notification scheme's URL."""

    params: frozenset[str]  # query parameters it may carry (host parameters included)
    netloc: bool = True  # the URL's host part names a host (False: it is a token or a topic)
    host_params: frozenset[str] = frozenset()  # those whose value is a host name: resolved and checked
    refused: frozenset[str] = frozenset()  # parameters of the plugin that are never allowed here
    prefixes: str = ""  # custom-field prefixes it may carry: + (header), - (query), : (payload)
    connects: Callable[[Any], list[tuple[str, int | None]]] = _HOST
    fixed_hosts: tuple[str, ...] = ()  # the vendor's own API hosts (checked when connecting)


def _rule(extra: set[str], *, host_params: frozenset[str] = frozenset(), **kw: Any) -> SchemeRule:
    return SchemeRule(params=_COMMON | frozenset(extra) | host_params, host_params=host_params, **kw)


_CUSTOM = _rule({"method"}, prefixes="+-:")
_EMAIL = _rule(
    {"from", "name", "mode", "reply", "to", "cc", "bcc"},
    host_params=frozenset({"smtp"}),
    # PGP keys are read from files named in the URL, and WKD fetches keys from each recipient's domain.
    refused=frozenset({"pgp", "pgppub", "pgpprv", "wkd", "inline"}),
    prefixes="+",
    connects=_attrs("smtp_host"),
)
_TEMPLATE = frozenset({"template"})  # a template file read from our disk
_NTFY = _rule(
    {"priority", "xtags", "click", "delay", "email", "mode", "to", "token", "auth", "actions"}
    | {"avatar_url"},  # sent to the server, which shows it; we never fetch it
    refused=frozenset({"attach", "filename", "image"}),  # attachments: not part of an alert
    netloc=False,
    connects=_ntfy,
    fixed_hosts=("ntfy.sh",),
)

APPRISE_RULES: dict[str, SchemeRule] = {
    "json": _CUSTOM,
    "jsons": _CUSTOM,
    "xml": _CUSTOM,
    "xmls": _CUSTOM,
    "form": _rule({"method"}, prefixes="+-:", refused=frozenset({"attach-as"})),
    "forms": _rule({"method"}, prefixes="+-:", refused=frozenset({"attach-as"})),
    "mailto": _EMAIL,
    "mailtos": _EMAIL,
    "gotify": _rule({"priority"}),
    "gotifys": _rule({"priority"}),
    "mmost": _rule({"botname", "channel", "channels", "team", "to", "icon_url", "image", "mode"}),
    "mmosts": _rule({"botname", "channel", "channels", "team", "to", "icon_url", "image", "mode"}),
    "rocket": _rule({"avatar", "mode", "to", "webhook"}),
    "rockets": _rule({"avatar", "mode", "to", "webhook"}),
    "ntfy": _NTFY,
    "ntfys": _NTFY,
    "slack": _rule(
        {"blocks", "footer", "image", "mode", "timestamp", "to", "token"},
        refused=_TEMPLATE,
        netloc=False,
        connects=_NONE,
        fixed_hosts=("hooks.slack.com", "hooks.slack-gov.com", "slack.com"),
    ),
    "tgram": _rule(
        {"album", "content", "detect", "image", "mdv", "preview", "silent", "thread", "to", "topic"},
        refused=_TEMPLATE,
        netloc=False,
        connects=_NONE,
        fixed_hosts=("api.telegram.org",),
    ),
    "discord": _rule(
        {"avatar", "avatar_url", "batch", "fields", "flags", "footer", "footer_logo", "href", "url", "image"}
        | {"ping", "thread", "tts"},
        refused=_TEMPLATE,
        netloc=False,
        connects=_NONE,
        fixed_hosts=("discord.com",),
    ),
    "pover": _rule(
        {"expire", "interval", "priority", "sound", "to", "url", "url_title"},
        refused=frozenset({"e2ee", "key"}),  # end-to-end encryption keys: not vetted
        netloc=False,
        connects=_NONE,
        fixed_hosts=("api.pushover.net",),
    ),
}

VETTED_SCHEMES = frozenset(WEBHOOK_SCHEMES) | frozenset(APPRISE_RULES)
# Every vetted scheme is pinned, so the default enables them all.
DEFAULT_CHANNEL_SCHEMES = tuple(sorted(VETTED_SCHEMES))


def check_enabled(schemes: list[str]) -> list[str]:
    """Lower-case the schemes; raise ValueError naming any that is not vetted."""
    wanted = [s.strip().lower() for s in schemes if s.strip()]
    unknown = sorted(set(wanted) - VETTED_SCHEMES)
    if unknown:
        raise ValueError(f"channel schemes {unknown} are not vetted; vetted: {sorted(VETTED_SCHEMES)}")
    return wanted
