"""The SSRF guard: which addresses the gateway may open connections to.

Customers type their server's host into the portal, so a host is untrusted input. Every address a host
resolves to must be a public internet address; loopback, private, link-local, multicast, unspecified,
reserved and shared (CGNAT) addresses are refused unless they fall in an allow-list network from config.
Cloud metadata addresses are refused always, allow-list or not. IPv4 embedded in IPv6 (mapped, 6to4,
Teredo, NAT64) is checked as the IPv4 address it reaches. `transport.py` connects to the address vetted
here, so DNS cannot answer differently between the check and the connection (rebinding).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bridge_gateway.errors import DestinationRefusedError

__all__ = ["SCHEMES", "Guard", "parse_networks"]

log = logging.getLogger(__name__)

SCHEMES = ("http", "https")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[..., Sequence[tuple[Any, ...]]]

# AWS/GCP/Azure/OpenStack (169.254.169.254), AWS IPv6 (fd00:ec2::254), Alibaba (100.100.100.200),
# Oracle (192.0.0.192).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def parse_networks(entries: Iterable[Any]) -> tuple[list[IPNetwork], list[str]]:
    """Parse allow-list entries (CIDR networks or single addresses); returns the networks and the bad entries."""
    networks: list[IPNetwork] = []
    bad: list[str] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            bad.append(str(entry))
    return networks, bad


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo client, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _why_not_public(address: IPAddress) -> str | None:
    """The kind of non-public address this is, or None for a public internet address."""
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    for kind, flag in (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return kind
    return None if address.is_global else "non-global"


class Guard:
    """Resolves hosts and vets every address; `resolver` is `socket.getaddrinfo` unless a test injects one."""

    def __init__(self, *, allowed_networks: Iterable[IPNetwork] = (), resolver: Resolver | None = None) -> None:
        self.allowed_networks = tuple(allowed_networks)
        self.resolver = resolver or socket.getaddrinfo

    def refusal(self, address: IPAddress) -> str | None:
        """Why `address` may not be connected to (None when it may)."""
        embedded = _embedded_ipv4(address)
        if address in METADATA_ADDRESSES or embedded in METADATA_ADDRESSES:
            return "cloud metadata"
        # An IPv4-mapped address is that IPv4 address on the wire; the other forms are checked both ways.
        mapped = isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None
        candidates = [embedded] if mapped else [address, *([embedded] if embedded else [])]
        for candidate in candidates:
            if candidate is None or any(candidate in network for network in self.allowed_networks):
                continue
            if reason := _why_not_public(candidate):
                return reason
        return None

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address `host` resolves to (an IP literal resolves to itself); raises socket.gaierror."""
        host = host.strip("[]")
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        infos = self.resolver(host, port, type=socket.SOCK_STREAM)
        addresses: list[IPAddress] = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "no address")
        return addresses

    def vet(self, host: str, port: int) -> str:
        """The address to connect to for `host`: refused (DestinationRefusedError) if any address is not allowed."""
        addresses = self.resolve(host, port)
        for address in addresses:
            if reason := self.refusal(address):
                log.warning("guard refused %s:%s: it resolves to a %s address (%s)", host, port, reason, address)
                raise DestinationRefusedError(
                    f"The gateway does not connect to {host}: it is not a public internet address. "
                    "Give the public address or name of the EBS application server.",
                    host=host,
                )
        return str(addresses[0])

    def check_host(self, host: str, port: int) -> None:
        """Refuse a host at registration when it already resolves to a forbidden address.

        A name that does not resolve now is accepted: every connection is vetted again (`vet`).
        """
        try:
            self.vet(host, port)
        except (socket.gaierror, UnicodeError):
            log.info("host %s does not resolve now; it will be vetted at connection time", host)
