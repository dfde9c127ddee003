"""The address rule of everything Huddle fetches or posts to on someone's word (link previews,
Web Push endpoints): which hosts and IP addresses it may connect to.

Only public addresses. `ipaddress`'s is_global alone has gaps that attackers use (its lists vary
with the Python version), so each form that can reach a private machine is refused by name too:
IPv4 inside IPv6 (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, 6to4 2002:AABB:CCDD::, NAT64
64:ff9b::a.b.c.d, Teredo), shared address space (100.64/10), and the cloud metadata services.
A host written as a number in an odd form (2130706433, 0177.0.0.1, 0x7f.1, 127.1) is refused
outright: it is not what a reader would call an address, and libraries disagree on its meaning."""
from __future__ import annotations

import ipaddress
import re

from yarl import URL

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200"))
SHARED = ipaddress.ip_network("100.64.0.0/10")
PROTOCOL = ipaddress.ip_network("192.0.0.0/24")  # IETF protocol assignments (not all private in Python 3.11)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local use, never public
COMPATIBLE = ipaddress.ip_network("::/96")  # IPv4-compatible IPv6 (deprecated), and :: and ::1
TEREDO = ipaddress.ip_network("2001::/32")
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
SITE_LOCAL = ipaddress.ip_network("fec0::/10")
# A label as the WHATWG URL parser reads IPv4 parts: decimal, 0x hex or 0-prefixed octal.
NUMBER = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
NAME = re.compile(rf"^(?=.{{1,253}}\.?$){LABEL}(\.{LABEL})*\.?$", re.IGNORECASE)  # after IDNA: DNS labels only


def _public_v4(ip: ipaddress.IPv4Address) -> bool:
    return not (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified or ip in SHARED or ip in PROTOCOL or ip in METADATA) and ip.is_global


def is_public(ip: Address) -> bool:
    """True only for an address anyone on the internet reaches the same way."""
    if isinstance(ip, ipaddress.IPv4Address):
        return _public_v4(ip)
    if ip.scope_id:
        return False  # fe80::1%eth0: a zone names a local link
    if ip.ipv4_mapped is not None or ip in COMPATIBLE or ip in TEREDO or ip in NAT64_LOCAL or ip in SITE_LOCAL:
        return False
    if ip in NAT64:
        return _public_v4(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip in SIX_TO_FOUR:
        embedded = ip.sixtofour
        if embedded is None or not _public_v4(embedded):
            return False
    return not (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified or ip in METADATA) and ip.is_global


def problem(address: str) -> str | None:
    """Why Huddle must not connect to this IP address (fit to show), or None if it is public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "it is not an address"
    if "%" in address:
        return "it names a local link (a zone)"
    if ip in METADATA:
        return "it is a cloud metadata service"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64_LOCAL:
            return "it is a local NAT64 address"
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and (ip in COMPATIBLE or ip in NAT64) and int(ip) > 1:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            reason = problem(str(embedded))
            if reason:
                return f"it carries the IPv4 address {embedded}, and {reason}"
    if ip.is_unspecified:
        return "it is the unspecified address"
    if ip.is_loopback:
        return "it is this machine (loopback)"
    if ip.is_link_local:
        return "it is a link-local address"
    if ip.is_multicast:
        return "it is a multicast address"
    if not is_public(ip):
        return "it is a private or reserved address"
    return None


class NotAName(ValueError):
    """A host that DNS could not hold ("exa mple.com", "a%00b", "-a.example")."""


def looks_numeric(host: str) -> bool:
    """A host the URL standard reads as an IPv4 address: its last label is a number (127.1,
    2130706433, 0x7f.0.0.1, 0177.0.0.1 and 1.2.3.4 alike)."""
    labels = host.rstrip(".").split(".")
    return bool(labels) and bool(NUMBER.match(labels[-1]))


def literal(host: str) -> Address | None:
    """The address a host names when it is an IP literal (yarl gives IPv6 without brackets),
    None for a name. ValueError for a numeric host not in canonical dotted form, an IPv6
    address with a zone, or a name that DNS could not hold ("exa mple.com", "a%00b")."""
    if ":" in host:
        if "%" in host:
            raise ValueError("an address with a zone")
        return ipaddress.IPv6Address(host)
    if looks_numeric(host):
        try:
            return ipaddress.IPv4Address(host.rstrip("."))  # strict: four decimal parts, no leading zeros
        except ValueError:
            raise ValueError("an address in an odd form") from None
    if not NAME.match(host):
        raise NotAName(host)
    return None


def host_key(host: str, port: int) -> str:
    """How HUDDLE_PREVIEW_ALLOWED_HOSTS names a host and port: lower case, IPv6 in brackets."""
    host = host.lower().rstrip(".")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def allowed_hosts(setting: str) -> frozenset[str]:
    """HUDDLE_PREVIEW_ALLOWED_HOSTS ("host:port,host:port") as the fetcher compares it: lower
    case, IDNA, IPv6 in brackets. ValueError for an entry that is not a host and a port."""
    found = set()
    for entry in filter(None, (each.strip() for each in setting.split(","))):
        try:
            url = URL(f"http://{entry}")
            port = url.explicit_port
        except ValueError:
            url, port = None, None
        if url is None or not url.raw_host or port is None or url.raw_path not in ("", "/") or url.user is not None:
            raise ValueError(f"not a host:port: {entry!r}")
        found.add(host_key(url.raw_host, port))
    return frozenset(found)
