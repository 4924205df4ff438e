"""The SSRF guard on its own: which addresses it lets the gateway connect to."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from bridge_gateway.errors import DestinationRefusedError
from bridge_gateway.guard import Guard, parse_networks

LOCAL = parse_networks(["127.0.0.1/32"])[0]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.9.9.9", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.0.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("239.1.2.3", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, not a bind
        ("::", "unspecified"),
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("100.64.0.1", "non-global"),  # shared address space (CGNAT)
        ("240.0.0.1", "private"),  # reserved for future use (Python counts it private)
        ("192.0.2.10", "private"),  # documentation range
        ("::ffff:10.0.0.1", "private"),  # IPv4-mapped IPv6
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("2002:a00:1::", "private"),  # 6to4 around 10.0.0.1
        ("64:ff9b::a00:1", "reserved"),  # NAT64 around 10.0.0.1 (the prefix lies in ::/8)
    ],
)
def test_non_public_addresses_are_refused(address: str, reason: str) -> None:
    assert Guard().refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "20.50.2.1", "2a00:1450:4001::200e", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert Guard().refusal(ipaddress.ip_address(address)) is None


def test_allow_list_admits_its_networks_but_never_metadata() -> None:
    guard = Guard(allowed_networks=parse_networks(["127.0.0.1/32", "10.20.0.0/16", "169.254.0.0/16"])[0])
    assert guard.refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert guard.refusal(ipaddress.ip_address("::ffff:127.0.0.1")) is None
    assert guard.refusal(ipaddress.ip_address("10.20.3.4")) is None
    assert guard.refusal(ipaddress.ip_address("127.0.0.2")) == "loopback"
    assert guard.refusal(ipaddress.ip_address("10.21.0.1")) == "private"
    assert guard.refusal(ipaddress.ip_address("169.254.169.254")) == "cloud metadata"


def test_bad_allow_list_entries_are_reported() -> None:
    networks, bad = parse_networks(["127.0.0.1", "10.0.0.0/8", "localhost", "300.1.1.1/8"])
    assert [str(n) for n in networks] == ["127.0.0.1/32", "10.0.0.0/8"]
    assert bad == ["localhost", "300.1.1.1/8"]


def _resolver(*addresses: str):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int, **kwargs: object) -> list[tuple[object, ...]]:
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    return resolve


def test_every_resolved_address_must_pass() -> None:
    guard = Guard(resolver=_resolver("93.184.216.34", "10.0.0.1"))
    with pytest.raises(DestinationRefusedError):
        guard.vet("mixed.example", 443)
    assert Guard(resolver=_resolver("93.184.216.34", "2606:2800::1")).vet("ok.example", 443) == "93.184.216.34"


def test_names_resolving_nowhere_pass_registration_but_not_connection() -> None:
    def nowhere(host: str, port: int, **kwargs: object) -> list[tuple[object, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "unknown")

    guard = Guard(resolver=nowhere)
    guard.check_host("not-yet.example", 443)  # accepted now, vetted again at every connection
    with pytest.raises(socket.gaierror):
        guard.vet("not-yet.example", 443)


def test_ip_literals_do_not_touch_dns() -> None:
    def boom(*args: object, **kwargs: object) -> list[tuple[object, ...]]:
        raise AssertionError("no lookup for an IP literal")

    assert Guard(resolver=boom, allowed_networks=LOCAL).vet("127.0.0.1", 80) == "127.0.0.1"
    assert Guard(resolver=boom).vet("[2606:2800::1]", 80) == "2606:2800::1"
