"""The link preview fetcher: a page's title, description, site and image address, and the image,
from the open internet only, and never anything else.

A message's author chooses the address, so every request is an attacker's (server-side request
forgery): the fetcher must not become a way into the machines beside Huddle. Each hop:
  - http or https, port 80 or 443, no credentials in the address;
  - the host resolved ONCE (getaddrinfo), refused if ANY answer is not public (app/web/addresses.py);
  - the connection made to exactly the addresses checked (aiohttp asks _Pinned, which knows only
    them), so a DNS answer that changes between the check and the connect (rebinding) cannot
    reach a second address; TLS still checks the certificate for the name;
  - redirects followed by hand, at most MAX_REDIRECTS, each Location checked by every rule again.
HUDDLE_PREVIEW_ALLOWED_HOSTS names `host:port`s exempt from the address and port rules (tests, a
site's intranet). The whole fetch has TOTAL_TIMEOUT (a body that trickles forever is cut), at most
MAX_PAGE_BYTES of page are read (counted after gzip: a small bomb is cut, never inflated), no
cookies are kept and no credentials are sent.

Two kinds of failure (app/links/errors.py): Refused (the address, the answer or the page breaks a
rule: trying again will not help) and Unavailable (the site could not be reached or answered an
error for now). The body is read by app/links/body.py, what it says by app/links/page.py."""
from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import socket
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from app.links.body import declared, read
from app.links.errors import Refused, Unavailable
from app.links.page import Page, parse
from app.web.addresses import NotAName, allowed_hosts, host_key, is_public, literal  # noqa: F401 (allowed_hosts: read here)

__all__ = ["Page", "Refused", "Unavailable", "allowed_hosts", "fetch_image", "fetch_page"]

CONNECT_TIMEOUT = 3.0  # seconds to connect, each hop
TOTAL_TIMEOUT = 8.0  # seconds for the whole fetch, redirects and reading included
MAX_PAGE_BYTES = 1024 * 1024
HEAD_END = re.compile(rb"</head\s*>|<body[\s>]", re.IGNORECASE)  # what a preview needs has been read
MAX_REDIRECTS = 5
PORTS = frozenset({80, 443})
USER_AGENT = "HuddleBot/1 (+link previews)"
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9"
IMAGE_ACCEPT = "image/png,image/jpeg,image/gif,image/webp"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
TLS: ssl.SSLContext | bool = True  # certificates checked (for the name) as by default; tests trust their own CA

Resolve = Callable[[str, int], Awaitable[list[str]]]  # (host, port) -> its IP addresses


async def fetch_page(url: str, *, allowed: frozenset[str] = frozenset(), _resolve: Resolve | None = None) -> Page:
    """What the HTML page at `url` says of itself. Refused or Unavailable when it cannot be had."""
    async with _limits():
        async with _get(url, allowed, _resolve or _system_resolve, PAGE_ACCEPT) as (final, response):
            if response.content_type not in PAGE_TYPES:
                raise Refused(f"not an HTML page ({response.content_type[:60]!r})")
            # A page's declared length is no reason to refuse it (many real pages pass a megabyte):
            # what is read stops at the limit, or sooner, once the head has ended.
            body = bytearray()

            async def keep(data: bytes) -> bool:
                body.extend(data)
                return HEAD_END.search(body, max(0, len(body) - len(data) - 8)) is not None

            complete = await read(response, MAX_PAGE_BYTES, keep)
            declared_charset = response.charset
        # Off the event loop: a megabyte of hostile markup takes a while even in one pass.
        page = await asyncio.to_thread(parse, bytes(body), str(final), declared_charset=declared_charset,
                                       complete=complete)
    if page is None:
        raise Refused("too large, and no HTML in its first megabyte")
    return page


async def fetch_image(url: str, dest: Path, *, allowed: frozenset[str] = frozenset(), max_bytes: int = 5 * 1024 * 1024,
                      _resolve: Resolve | None = None) -> None:
    """Streams the PNG, JPEG, GIF or WebP image at `url` into `dest` (removed if it fails)."""
    try:
        async with _limits(), _get(url, allowed, _resolve or _system_resolve, IMAGE_ACCEPT) as (_, response):
            if response.content_type not in IMAGE_TYPES:
                raise Refused(f"not an image ({response.content_type[:60]!r})")
            declared(response, max_bytes)
            out = await asyncio.to_thread(open, dest, "wb")
            try:
                complete = await read(response, max_bytes, lambda data: asyncio.to_thread(out.write, data))
            finally:
                await asyncio.to_thread(out.close)
            if not complete:
                raise Refused("too large")
    except BaseException:
        dest.unlink(missing_ok=True)  # noqa: ASYNC240 - at once, even when cancelled
        raise


# --- one hop at a time ----------------------------------------------------------------------------

async def _system_resolve(host: str, port: int) -> list[str]:
    try:
        answers = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            raise Refused("no such host") from None
        raise Unavailable(f"could not resolve the host: {error}") from None
    return [answer[4][0] for answer in answers]


async def _check(url: URL, allowed: frozenset[str], resolve: Resolve) -> list[str]:
    """The addresses this hop may connect to: every rule of the module docstring, or Refused."""
    if url.scheme not in ("http", "https") or not url.raw_host:
        raise Refused("not a web address")
    if url.user is not None or url.password is not None:
        raise Refused("credentials in the address")
    host, port = url.raw_host, url.port or 0
    exempt = host_key(host, port) in allowed
    if not exempt and port not in PORTS:
        raise Refused(f"port {port} not allowed")
    try:
        ip = literal(host)
    except NotAName:
        raise Refused("not a web address") from None
    except ValueError as error:
        raise Refused(f"not a public address: {error}") from None
    answers = [str(ip)] if ip is not None else list(dict.fromkeys(await resolve(host, port)))
    if not answers:
        raise Unavailable("no address for the host")
    for answer in answers:
        try:
            address = ipaddress.ip_address(answer)
        except ValueError:
            raise Refused(f"not an address: {answer!r}") from None
        if not exempt and not is_public(address):
            raise Refused("not a public address")
    return answers


class _Pinned(AbstractResolver):
    """aiohttp's resolver for one fetch: it answers with the addresses _check approved, and
    nothing for any other host. Nothing is looked up a second time."""

    def __init__(self) -> None:
        self.pins: dict[str, list[str]] = {}

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        answers = self.pins.get(host.rstrip("."))
        if not answers:
            raise OSError(f"{host} was not checked")
        flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        return [ResolveResult(hostname=host, host=answer, port=port, proto=0, flags=flags,
                              family=socket.AF_INET6 if ":" in answer else socket.AF_INET) for answer in answers]

    async def close(self) -> None:
        pass


@contextlib.asynccontextmanager
async def _get(url: str, allowed: frozenset[str], resolve: Resolve,
               accept: str) -> AsyncIterator[tuple[URL, aiohttp.ClientResponse]]:
    """The final answer (200) for `url` after at most MAX_REDIRECTS redirects, each hop checked."""
    try:
        current = URL(url)
    except ValueError:
        raise Refused("not a web address") from None
    pinned = _Pinned()
    connector = aiohttp.TCPConnector(resolver=pinned, use_dns_cache=False, force_close=True)
    timeout = aiohttp.ClientTimeout(total=TOTAL_TIMEOUT, connect=CONNECT_TIMEOUT)
    headers = {"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "gzip, deflate"}
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(), timeout=timeout,
                                     auto_decompress=False, trust_env=False, headers=headers) as session:
        for _ in range(MAX_REDIRECTS + 1):
            pinned.pins[(current.raw_host or "").rstrip(".")] = await _check(current, allowed, resolve)
            async with session.get(current, allow_redirects=False, ssl=TLS) as response:
                if response.status in REDIRECTS and response.headers.get("Location"):
                    try:
                        current = current.join(URL(response.headers["Location"]))
                    except ValueError:
                        raise Refused("a redirect to a bad address") from None
                    continue
                if response.status == 429 or response.status >= 500:
                    raise Unavailable(f"status {response.status}")
                if response.status != 200:
                    raise Refused(f"status {response.status}")
                yield current, response
                return
        raise Refused("too many redirects")


@contextlib.asynccontextmanager
async def _limits() -> AsyncIterator[None]:
    """The whole fetch within TOTAL_TIMEOUT, and the network's errors as Refused or Unavailable."""
    try:
        async with asyncio.timeout(TOTAL_TIMEOUT):
            yield
    except aiohttp.ClientConnectorCertificateError:
        raise Refused("a certificate not valid for the name") from None
    except aiohttp.ConnectionTimeoutError:
        raise Unavailable("no connection in time") from None
    except TimeoutError:
        raise Refused("too slow") from None
    except aiohttp.InvalidURL:
        raise Refused("not a web address") from None
    except zlib.error:
        raise Refused("a broken compressed body") from None
    except (aiohttp.ClientError, OSError) as error:
        raise Unavailable(f"{type(error).__name__}: {error}") from None
