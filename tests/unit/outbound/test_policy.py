"""The address policy through its public methods, with injected resolvers (no lookup, no connection)."""

import ipaddress

import pytest

from shared.outbound.policy import AddressPolicy, BlockedAddressError, embedded_ipv4, parse_networks

# IPv6 addresses that carry a private, loopback or link-local IPv4 address, by every embedding we know.
WRAPPED_PRIVATE = {
    "6to4 127.0.0.1": "2002:7f00:1::1",
    "6to4 10.0.0.1": "2002:a00:1::1",
    "6to4 169.254.169.254": "2002:a9fe:a9fe::1",
    "Teredo client 127.0.0.1 (obfuscated), public server": "2001:0:4136:e378:8000:63bf:80ff:fffe",
    "Teredo server 10.0.0.1, public client": "2001:0:a00:1:8000:63bf:a247:27dd",
    "NAT64 127.0.0.1": "64:ff9b::7f00:1",
    "NAT64 169.254.169.254": "64:ff9b::a9fe:a9fe",
    "NAT64 local-use 10.0.0.1": "64:ff9b:1::a00:1",
    "IPv4-mapped 127.0.0.1": "::ffff:127.0.0.1",
    "IPv4-mapped 192.168.1.1": "::ffff:c0a8:101",
    "IPv4-compatible 127.0.0.1": "::7f00:1",
    "IPv4-translated 10.0.0.1": "::ffff:0:a00:1",
    "ISATAP 127.0.0.1 in a global prefix": "2400:cb00::200:5efe:7f00:1",
    "ISATAP 10.0.0.1 in a global prefix": "2400:cb00::5efe:a00:1",
}


def _policy(answer: str, allowed: str = "") -> AddressPolicy:
    return AddressPolicy(allowed_networks=tuple(parse_networks(allowed)), resolver=lambda h, p: [answer])


@pytest.mark.parametrize("addr", list(WRAPPED_PRIVATE.values()), ids=list(WRAPPED_PRIVATE))
def test_ipv6_wrapping_a_private_ipv4_is_refused(addr: str) -> None:
    # as a literal in the URL, and as what a name resolves to
    with pytest.raises(BlockedAddressError):
        AddressPolicy().check_url(f"http://[{addr}]/feed")
    with pytest.raises(BlockedAddressError):
        _policy(addr).check_url("https://feed.example/rss")
    with pytest.raises(BlockedAddressError):
        _policy(addr).check_host("smtp.example", 25)


def test_teredo_client_is_deobfuscated() -> None:
    # the client IPv4 is the last 32 bits XOR 0xffffffff; the server is bits 32-63
    server, client = ipaddress.IPv4Address("65.54.227.120"), ipaddress.IPv4Address("127.0.0.1")
    assert embedded_ipv4(ipaddress.ip_address("2001:0:4136:e378:8000:63bf:80ff:fffe")) == [server, client]


def test_an_embedded_address_is_allowed_only_when_its_ipv4_is() -> None:
    loop6to4 = "2002:7f00:1::1"  # 127.0.0.1
    # listing the IPv6 range does not open the IPv4 it wraps
    for allowed in ("2002::/16", "::/0", "127.0.0.2/32"):
        with pytest.raises(BlockedAddressError):
            _policy(loop6to4, allowed).check_url("http://feed.example/")
    # listing the IPv4 range does
    _policy(loop6to4, "127.0.0.0/8").check_url("http://feed.example/")
    _policy("2002:7f00:2::1", "127.0.0.2/32").check_url("http://feed.example/")
    _policy("::ffff:127.0.0.1", "127.0.0.0/8").check_url("http://feed.example/")
    # a translator prefix needs both: the IPv6 prefix and the IPv4 it reaches
    with pytest.raises(BlockedAddressError):
        _policy("64:ff9b::7f00:1", "64:ff9b::/96").check_url("http://feed.example/")
    with pytest.raises(BlockedAddressError):
        _policy("64:ff9b::7f00:1", "127.0.0.0/8").check_url("http://feed.example/")
    _policy("64:ff9b::7f00:1", "64:ff9b::/96, 127.0.0.0/8").check_url("http://feed.example/")
    # Teredo: both embedded addresses count
    with pytest.raises(BlockedAddressError):
        _policy("2001:0:4136:e378:8000:63bf:80ff:fffe", "2001::/32").check_url("http://feed.example/")


def test_public_ipv4_behind_6to4_stays_allowed_and_one_bad_answer_refuses_all() -> None:
    _policy("2002:5db8:d822::1").check_url("http://feed.example/")  # 6to4 of 93.184.216.34
    _policy("2606:4700::1111").check_host("feed.example", 443)
    mixed = AddressPolicy(resolver=lambda h, p: ["93.184.216.34", "2002:a00:1::1"])
    with pytest.raises(BlockedAddressError):
        mixed.check_host("feed.example", 443)
