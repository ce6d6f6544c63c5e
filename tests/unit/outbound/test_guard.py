"""Pinned resolution: inside a scope every lookup answers with checked addresses only (injected resolvers)."""

import socket
import threading

import pytest

from shared.outbound.guard import RefusedResolution, pinned_resolution
from shared.outbound.policy import AddressPolicy, parse_networks


def _policy(table: dict[str, list[str]], allowed: str = "127.0.0.3/32") -> AddressPolicy:
    def resolver(host: str, port: int) -> list[str]:
        if host not in table:
            raise AssertionError(f"unexpected lookup of {host}")
        return table[host]

    return AddressPolicy(allowed_networks=tuple(parse_networks(allowed)), resolver=resolver)


def _addresses(host: str, port: int = 80) -> set[str]:
    return {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}


def test_lookups_in_a_scope_answer_the_checked_address_and_refuse_the_rest() -> None:
    policy = _policy({"localhost": ["127.0.0.3"], "evil.test": ["127.0.0.1"]})
    with pinned_resolution(policy, {"hooks.test": ["127.0.0.3"]}) as scope:
        assert _addresses("hooks.test") == {"127.0.0.3"}  # pinned: never looked up again
        assert _addresses("localhost") == {"127.0.0.3"}  # resolved once through the policy, not the system
        for refused in ("evil.test", "127.0.0.1", "::1", "::ffff:127.0.0.1"):
            with pytest.raises(RefusedResolution):
                socket.getaddrinfo(refused, 80)
        with pytest.raises(OSError):  # what smtplib and urllib3 do with a host name
            socket.create_connection(("evil.test", 80), timeout=1)
    assert len(scope.refused) == 5
    assert _addresses("localhost") & {"127.0.0.1", "::1"}  # outside the scope: the system again


def test_the_scope_follows_copied_contexts_but_not_other_threads() -> None:
    import contextvars

    policy = _policy({"localhost": ["127.0.0.3"]})
    seen: dict[str, set[str]] = {}
    with pinned_resolution(policy):
        ctx = contextvars.copy_context()
        inherit = threading.Thread(target=lambda: seen.update(copied=ctx.run(_addresses, "localhost")))
        plain = threading.Thread(target=lambda: seen.update(plain=_addresses("localhost")))
        inherit.start(), plain.start()
        inherit.join(), plain.join()
    assert seen["copied"] == {"127.0.0.3"}
    assert seen["plain"] & {"127.0.0.1", "::1"}
