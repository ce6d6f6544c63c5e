"""Outbound address policy: one rule for every request this service makes (feeds, pages, sitemaps,
WebSub hubs, webhooks and every delivery channel).

Private, loopback, link-local, CGNAT and reserved targets are refused. Every outbound request resolves its
host once, checks every resolved address against the policy, and connects to the checked address only (no
second DNS lookup, so no rebinding). `NEWSWATCH_ALLOWED_NETWORKS` opens ranges (e.g. 127.0.0.0/8 in tests).
This package imports no domain package: fetching and alerts build on it.

Exceptions (FetchError is the root of every outbound-request failure; the rest of the tree is in
shared/outbound/http.py):
    FetchError
      └─ UnsafeURLError         the URL may not be fetched (also a ValueError)
           ├─ BadSchemeError      not http/https, or no host
           └─ BlockedAddressError a resolved address is in a blocked range and not allowed
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_EXTRA_BLOCKED = [
    ipaddress.ip_network(n)
    for n in ("0.0.0.0/8", "192.0.0.0/24", "198.18.0.0/15", "240.0.0.0/4", "64:ff9b::/96", "2001:db8::/32")
]


class FetchError(Exception):
    """Base of every failure of an outbound request (feeds, pages, webhooks)."""


class UnsafeURLError(FetchError, ValueError):
    """The URL may not be requested."""


class BadSchemeError(UnsafeURLError):
    """Only http and https URLs with a host are allowed."""


class BlockedAddressError(UnsafeURLError):
    """The host resolves to an address the policy refuses."""


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with getaddrinfo; returns every address, IPv4 and IPv6."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_networks(values: Iterable[str] | str) -> list[IPNetwork]:
    """Parse CIDRs from a list or a comma/space separated string; raises ValueError on a bad one."""
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    return [ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip()]


def is_public_address(addr: IPAddress) -> bool:
    """True when the address is globally routable (not private, loopback, link-local, CGNAT, reserved)."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return is_public_address(addr.ipv4_mapped)
    if (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or not addr.is_global
    ):
        return False
    if isinstance(addr, ipaddress.IPv4Address) and addr in _CGNAT:
        return False
    return not any(addr.version == n.version and addr in n for n in _EXTRA_BLOCKED)


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses outbound requests may reach."""

    allowed_networks: Sequence[IPNetwork] = field(default_factory=tuple)
    resolver: Resolver = system_resolver

    def is_allowed(self, addr: IPAddress) -> bool:
        if any(addr.version == n.version and addr in n for n in self.allowed_networks):
            return True
        return is_public_address(addr)

    def resolve(self, url: str) -> tuple[str, int, list[str]]:
        """Check scheme and host, resolve, check every address; returns (host, port, addresses)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadSchemeError(f"only http(s) URLs with a host are allowed: {url!r}")
        host = parts.hostname
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise BadSchemeError(f"bad port in {url!r}") from exc
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = self.resolver(host, port)
            except OSError as exc:
                raise UnsafeURLError(f"cannot resolve {host!r}: {exc}") from exc
            if not addresses:
                raise UnsafeURLError(f"{host!r} resolves to no address")
        for a in addresses:
            if not self.is_allowed(ipaddress.ip_address(a)):
                raise BlockedAddressError(
                    f"{host!r} resolves to {a}, a private or reserved address "
                    "(see NEWSWATCH_ALLOWED_NETWORKS)"
                )
        return host, port, addresses

    def check_url(self, url: str) -> None:
        """Raise UnsafeURLError when the URL may not be requested."""
        self.resolve(url)
