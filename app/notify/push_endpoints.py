"""Push endpoints are URLs a browser (or anyone with a token) hands us, and we POST to them: an
SSRF door. Only `https` to public addresses passes, checked when the subscription is made AND
when each push is sent (DNS may answer differently by then), and the connection goes to the very
addresses that were checked (the HTTP client resolves names through `PinnedResolver`, never on
its own). Refused: loopback, private, shared (CGNAT), link-local, unique-local, multicast,
unspecified and reserved addresses, the metadata services, and IPv6 forms that carry one of those
IPv4 addresses (mapped, compatible, 6to4, NAT64, Teredo). Origins listed in
HUDDLE_PUSH_ALLOWED_ORIGINS (tests, a relay on the private network) skip the address checks."""
from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

from app.config import Settings, url_origin

MAX_LENGTH = 2048
LOOKUP_SECONDS = 5
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
            ipaddress.ip_address("100.100.100.200")}
NAT64 = ipaddress.ip_network("64:ff9b::/96")
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
COMPATIBLE = ipaddress.ip_network("::/96")
HOST_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?")


class Refused(ValueError):
    """This endpoint may not be pushed to; the message says why, fit to show."""


def address_problem(address: str) -> str | None:
    """Why we must not connect to this IP address, or None if it is a public one."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "it is not an address"
    if ip in METADATA:
        return "it is a cloud metadata service"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = None
        if ip.ipv4_mapped is not None:
            embedded = ip.ipv4_mapped
        elif ip in COMPATIBLE:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        elif ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        elif ip.sixtofour is not None:
            embedded = ip.sixtofour
        elif ip.teredo is not None:
            embedded = ip.teredo[1]
        if ip in LOCAL_NAT64:
            return "it is a local NAT64 address"
        if embedded is not None:
            problem = address_problem(str(embedded))
            return f"it carries the IPv4 address {embedded}, and {problem}" if problem else None
    if ip.is_unspecified:
        return "it is the unspecified address"
    if ip.is_loopback:
        return "it is this machine (loopback)"
    if ip.is_link_local:
        return "it is a link-local address"
    if ip.is_multicast:
        return "it is a multicast address"
    if ip.is_private or not ip.is_global or ip.is_reserved:
        return "it is a private or reserved address"
    return None


def parse(endpoint: Any, settings: Settings) -> tuple[str, int, bool]:
    """Check the URL's shape: (host, port, allowed) where allowed means its origin is listed in
    HUDDLE_PUSH_ALLOWED_ORIGINS. Raises Refused."""
    if not isinstance(endpoint, str) or not endpoint:
        raise Refused("Give the subscription's endpoint URL.")
    if len(endpoint) > MAX_LENGTH:
        raise Refused(f"An endpoint is at most {MAX_LENGTH:,} characters.")
    if not endpoint.isascii() or any(ord(c) < 33 or c in "\\\x7f" for c in endpoint):
        raise Refused("An endpoint is a URL of printable ASCII characters.")
    origin = url_origin(endpoint)
    allowed = origin is not None and origin in settings.push_allowed_origins
    try:
        parts = urlsplit(endpoint)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("The endpoint is not a URL Huddle can read.") from None
    if parts.scheme != "https" and not allowed:
        raise Refused("Push endpoints must be https URLs.")
    if "@" in parts.netloc:
        raise Refused("A push endpoint has no user name or password in it.")
    if parts.fragment:
        raise Refused("A push endpoint has no #fragment.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused("The endpoint has no host.")
    if not allowed:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            # A name, and only a name: "2130706433", "0x7f.1" or "017700000001" are IPv4 addresses
            # to some resolvers; refuse them rather than learn which spelling means what.
            if not HOST_NAME.fullmatch(host) or re.fullmatch(r"[0-9.]+|0x[0-9a-f.x]*", host.rsplit(".", 1)[-1]):
                raise Refused("The endpoint's host is not a host name or an address.") from None
    return host, port, allowed


async def lookup(host: str, port: int) -> list[tuple[int, str]]:
    """(family, address) of each address of host; tests replace this to play DNS."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [(family, sockaddr[0]) for family, _, _, _, sockaddr in infos]


async def public_addresses(host: str, port: int) -> list[tuple[int, str]]:
    """The host's addresses if every one of them is public; Refused otherwise (one bad answer is
    enough: the client could pick it)."""
    try:
        ipaddress.ip_address(host)
        found = [(socket.AF_INET6 if ":" in host else socket.AF_INET, host)]
    except ValueError:
        try:
            found = await asyncio.wait_for(lookup(host, port), LOOKUP_SECONDS)
        except (OSError, TimeoutError):
            raise Refused(f"The endpoint's host {host} cannot be found.") from None
    if not found:
        raise Refused(f"The endpoint's host {host} cannot be found.")
    for _, address in found:
        problem = address_problem(address)
        if problem:
            raise Refused(f"Huddle does not push to {host}: {problem}.")
    return found


async def check(endpoint: Any, settings: Settings) -> None:
    """Refused unless this endpoint may be pushed to now."""
    host, port, allowed = parse(endpoint, settings)
    if not allowed:
        await public_addresses(host, port)


class PinnedResolver(AbstractResolver):
    """aiohttp's resolver for pushes: answers only with checked, public addresses, so the socket
    connects to what was checked. An address literal in the URL never reaches a resolver: the
    sender checks it (parse + public_addresses) before connecting."""

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        try:
            found = await public_addresses(host, port)
        except Refused as refused:
            raise OSError(str(refused)) from None
        return [ResolveResult(hostname=host, host=address, port=port, family=family_, proto=0,
                              flags=socket.AI_NUMERICHOST) for family_, address in found]

    async def close(self) -> None:
        return None
