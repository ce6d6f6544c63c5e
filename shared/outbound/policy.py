"""Outbound address policy: one rule for every request this service makes (feeds, pages, sitemaps,
WebSub hubs, webhooks and every delivery channel).

Private, loopback, link-local, CGNAT and reserved targets are refused. Every outbound request resolves its
host once, checks every resolved address against the policy, and connects to the checked address only (no
second DNS lookup, so no rebinding). `NEWSWATCH_ALLOWED_NETWORKS` opens ranges (e.g. 127.0.0.0/8 in tests).
This package imports no domain package: fetching and alerts build on it.

Exceptions (FetchError is the root of every outbound-request failure; the rest of the tree is in
shared/outbound/http.py):
    FetchError
      └─ UnsafeURLError         the URL may not be fetched (also shared.errors.ForbiddenAddress → 422)
           ├─ BadSchemeError      not http/https, or no host
           └─ BlockedAddressError a resolved address is in a blocked range and not allowed
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from shared.errors import ForbiddenAddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

# The system's getaddrinfo, taken before shared.outbound.guard wraps the socket module's: the policy's own
# lookups must never go through that wrapper.
system_getaddrinfo = socket.getaddrinfo

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_EXTRA_BLOCKED = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "192.0.0.0/24",
        "198.18.0.0/15",
        "240.0.0.0/4",
        "64:ff9b::/96",  # NAT64 well-known prefix: reaches IPv4 through a translator
        "64:ff9b:1::/48",  # NAT64 local-use (RFC 8215): where the IPv4 sits is the operator's choice
        "2001:db8::/32",
    )
]
_V4 = 0xFFFFFFFF
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def embedded_ipv4(addr: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries, by every known embedding; [] for anything else.

    IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96 (not :: or ::1), IPv4-translated ::ffff:0:0:0/96,
    6to4 2002::/16 (bits 16-47), Teredo 2001::/32 (server: bits 32-63; client: the last 32 bits XOR
    0xffffffff), NAT64 64:ff9b::/96 (the last 32 bits) and ISATAP interface ids (::0:5efe:a.b.c.d and
    ::200:5efe:a.b.c.d, in any prefix). 64:ff9b:1::/48 is not decoded: it is refused as a whole.
    """
    if not isinstance(addr, ipaddress.IPv6Address):
        return []
    n = int(addr)
    found: list[ipaddress.IPv4Address] = []
    high = n >> 32
    if high == 0xFFFF or high == 0xFFFF0000 or (high == 0 and n > 1):  # mapped, translated, compatible
        found.append(ipaddress.IPv4Address(n & _V4))
    if addr.sixtofour is not None:
        found.append(addr.sixtofour)
    if addr.teredo is not None:
        found.extend(addr.teredo)
    if addr in _NAT64:
        found.append(ipaddress.IPv4Address(n & _V4))
    if (n >> 32) & 0xFCFFFFFF == 0x00005EFE:  # ISATAP: the universal/group bits of the id may be set
        found.append(ipaddress.IPv4Address(n & _V4))
    return list(dict.fromkeys(found))


class FetchError(Exception):
    """Base of every failure of an outbound request (feeds, pages, webhooks)."""


class UnsafeURLError(FetchError, ForbiddenAddress):
    """The URL may not be requested."""


class BadSchemeError(UnsafeURLError):
    """Only http and https URLs with a host are allowed."""


class BlockedAddressError(UnsafeURLError):
    """The host resolves to an address the policy refuses."""


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with getaddrinfo; returns every address, IPv4 and IPv6."""
    infos = system_getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_networks(values: Iterable[str] | str) -> list[IPNetwork]:
    """Parse CIDRs from a list or a comma/space separated string; raises ValueError on a bad one."""
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    return [ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip()]


def _is_public_by_range(addr: IPAddress) -> bool:
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


def is_public_address(addr: IPAddress) -> bool:
    """True when the address is globally routable (not private, loopback, link-local, CGNAT, reserved), and
    so is every IPv4 address it wraps."""
    return AddressPolicy().is_allowed(addr)


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses outbound requests may reach."""

    allowed_networks: Sequence[IPNetwork] = field(default_factory=tuple)
    resolver: Resolver = system_resolver

    def _listed(self, addr: IPAddress) -> bool:
        return any(addr.version == n.version and addr in n for n in self.allowed_networks)

    def is_allowed(self, addr: IPAddress) -> bool:
        """True when the address is public or in an allowed network, and so is every IPv4 it wraps.

        An IPv6 address that carries an IPv4 one (6to4, Teredo, NAT64, ISATAP, IPv4-compatible) is allowed
        only if that IPv4 address is (public, or in an allowed IPv4 network) and the IPv6 address is too: an
        embedded 127.0.0.1 needs 127.0.0.0/8 in the allowed networks, whatever IPv6 networks are listed.
        An IPv4-mapped address (::ffff:a.b.c.d) is only another spelling of its IPv4 address: judged as that.
        """
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            return self.is_allowed(addr.ipv4_mapped)
        if not all(self.is_allowed(v4) for v4 in embedded_ipv4(addr)):
            return False
        return self._listed(addr) or _is_public_by_range(addr)

    def check_host(self, host: str, port: int) -> list[str]:
        """Resolve a host name (or take an IP literal), check every address; returns the addresses."""
        host = host.strip().strip("[]")
        if not host:
            raise BadSchemeError("no host")
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = self.resolver(host, port)
            except (OSError, UnicodeError) as exc:
                raise UnsafeURLError(f"cannot resolve {host!r}: {exc}") from exc
            if not addresses:
                raise UnsafeURLError(f"{host!r} resolves to no address")
        for a in addresses:
            if not self.is_allowed(ipaddress.ip_address(a)):
                raise BlockedAddressError(
                    f"{host!r} resolves to {a}, a private or reserved address "
                    "(see NEWSWATCH_ALLOWED_NETWORKS)"
                )
        return addresses

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
        addresses = self.check_host(host, port)
        return host, port, addresses

    def check_url(self, url: str) -> None:
        """Raise UnsafeURLError when the URL may not be requested."""
        self.resolve(url)
