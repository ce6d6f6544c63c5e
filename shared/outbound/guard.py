"""Pin the connections of libraries we do not drive (Apprise's plugins: requests, smtplib) to checked hosts.

Inside `pinned_resolution(policy, pins)`, every name lookup made through Python's `socket.getaddrinfo` goes
through the policy instead of the system: a host already checked (`pins`: host → addresses) gets exactly those
addresses back; any other host is resolved once with the policy's resolver and every address checked; an IP
literal is checked as it is. Only numeric results come back, so the library connects to the checked address
(no second lookup, so no DNS rebinding) while it still talks to the name: the Host header, TLS SNI and the
certificate check keep using it. A refused lookup raises `RefusedResolution` (a `socket.gaierror`, which every
library reports as "cannot resolve") and is recorded in the pins, so the caller can say it was blocked.

The scope is a context variable: it covers the calling thread and any worker that copies its context (Apprise
copies it into its own worker threads); outside a scope lookups pass straight to the system. What resolves a
name in C without Python's getaddrinfo (a host name handed to `connect()` or `sendto()`) is not covered: such
code cannot be pinned this way, and the channel schemes that use it are not on the vetted list.
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.outbound.policy import AddressPolicy, UnsafeURLError, system_getaddrinfo

_ACTIVE: contextvars.ContextVar[Pins | None] = contextvars.ContextVar("nw_outbound_pins", default=None)
_INSTALL_LOCK = threading.Lock()


class RefusedResolution(socket.gaierror):
    """A lookup inside a pinned scope named a host the policy refuses."""


@dataclass
class Pins:
    """The checked addresses of one pinned scope, and what it refused."""

    policy: AddressPolicy
    addresses: dict[str, list[str]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def lookup(self, host: str, port: int) -> list[str]:
        """The checked addresses of a host: pinned ones, else resolved once now and checked."""
        key = host.lower().rstrip(".")
        with self._lock:
            known = self.addresses.get(key)
        if known is not None:
            return known
        try:
            found = self.policy.check_host(key, port)
        except UnsafeURLError as exc:
            with self._lock:
                self.refused.append(str(exc))
            raise RefusedResolution(socket.EAI_NONAME, f"refused by the outbound policy: {exc}") from exc
        with self._lock:
            return self.addresses.setdefault(key, found)


def _port(port: Any) -> int:
    if isinstance(port, int):
        return port
    if isinstance(port, bytes):
        port = port.decode("ascii", "replace")
    return int(port) if isinstance(port, str) and port.isdigit() else 0


def _guarded_getaddrinfo(
    host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
) -> list[Any]:
    pins = _ACTIVE.get()
    if pins is None:
        return system_getaddrinfo(host, port, family, type, proto, flags)
    name = host.decode("idna") if isinstance(host, bytes) else host
    if not name:  # None or "" means this machine: never a channel's destination
        raise RefusedResolution(socket.EAI_NONAME, "refused by the outbound policy: no host")
    results: list[Any] = []
    for address in pins.lookup(str(name), _port(port)):
        with contextlib.suppress(socket.gaierror):  # an address of another family than asked for
            results += system_getaddrinfo(address, port, family, type, proto, flags | socket.AI_NUMERICHOST)
    if not results:
        raise RefusedResolution(socket.EAI_NONAME, f"no checked address of {name!r} for this family")
    return results


def install() -> None:
    """Route socket.getaddrinfo through the pinned scopes (once per process; outside a scope: unchanged)."""
    with _INSTALL_LOCK:
        if socket.getaddrinfo is not _guarded_getaddrinfo:
            socket.getaddrinfo = _guarded_getaddrinfo


@contextlib.contextmanager
def pinned_resolution(policy: AddressPolicy, pins: Mapping[str, list[str]] | None = None) -> Iterator[Pins]:
    """Within the block, every lookup answers with checked addresses only (see the module docstring)."""
    install()
    scope = Pins(policy=policy, addresses={k.lower().rstrip("."): list(v) for k, v in (pins or {}).items()})
    token = _ACTIVE.set(scope)
    try:
        yield scope
    finally:
        _ACTIVE.reset(token)
