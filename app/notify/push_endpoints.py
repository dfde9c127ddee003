"""Push endpoints are URLs a browser (or anyone with a token) hands us, and we POST to them: an
SSRF door. Only `https` to public addresses passes, checked when the subscription is made AND
when each push is sent (DNS may answer differently by then), and the connection goes to the very
addresses that were checked (the HTTP client resolves names through `PinnedResolver`, never on
its own). The address rule is app/web/addresses.py's, the link preview fetcher's too. Refused:
loopback, private, shared (CGNAT), link-local, unique-local, multicast,
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
from app.web.addresses import problem as address_problem  # the one address rule (link previews too)

MAX_LENGTH = 2048
LOOKUP_SECONDS = 5
HOST_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?")


class Refused(ValueError):
    """This endpoint may not be pushed to; the message says why, fit to show."""


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
