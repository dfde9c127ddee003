"""A web site of our own on 127.0.0.x playing the tricks a link preview fetcher must survive: long
redirect chains, redirects into the machine, pages that never end, a body that trickles forever,
a declared length far too large, a gzip bomb, something that is not HTML, images too large.

An aiohttp.web server in the test's own event loop, on a port of tests/helpers/ports.py; it
records each request it answered (path and headers), so a test sees what the fetcher sent."""
from __future__ import annotations

import asyncio
import functools
import gzip
from dataclasses import dataclass, field

from aiohttp import web

from tests.helpers.ports import free_port

MB = 1024 * 1024
# The smallest PNG there is: one transparent pixel.
PIXEL = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                      "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def page(title: str = "The page", *, head: str = "", body: str = "<p>Hello</p>") -> str:
    return f"<!doctype html><html><head><title>{title}</title>{head}</head><body>{body}</body></html>"


OPEN_GRAPH = page(head='<meta property="og:title" content="Open &amp; Graph title">'
                       '<meta property="og:description" content="What the   page\n is about.">'
                       '<meta property="og:site_name" content="Example Site">'
                       '<meta property="og:image" content="/images/card.png">')


@functools.cache
def bomb(head: str) -> bytes:
    """`head` and then 50 MB of spaces, gzipped into a few dozen kilobytes."""
    return gzip.compress(head.encode() + b" " * (50 * MB), compresslevel=9)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class AttackServer:
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    title: str = "The page"  # the title of /title, to tell two servers apart
    seen: list[Seen] = field(default_factory=list)

    @property
    def key(self) -> str:
        """This server as HUDDLE_PREVIEW_ALLOWED_HOSTS names it."""
        return f"{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.key}{path}"

    async def __aenter__(self) -> AttackServer:
        app = web.Application(middlewares=[self._record])
        routes = {
            "/og": _answer(lambda: _html(OPEN_GRAPH)),
            "/title": _answer(lambda: _html(page(self.title))),
            "/chain/{left:\\d+}": self._chain,
            "/to": self._to,
            "/cookie": self._cookie,
            "/huge-head": functools.partial(_endless, first=page("Early head").encode()),
            "/huge-junk": functools.partial(_endless, first=b""),
            "/declared": functools.partial(_declared, content_type="text/html"),
            "/declared-image": functools.partial(_declared, content_type="image/png"),
            "/bomb": _answer(lambda: _gzip(bomb(""))),
            "/bomb-head": _answer(lambda: _gzip(bomb(page("Bomb with a head")))),
            "/slow": _slow,
            "/json": _answer(lambda: web.json_response({"title": "not a page"})),
            "/status/{code:\\d+}": _status,
            "/pixel.png": _answer(lambda: web.Response(body=PIXEL, content_type="image/png")),
            "/pixel.svg": _answer(lambda: web.Response(text="<svg/>", content_type="image/svg+xml")),
            "/big.png": _big_image,
        }
        for path, handler in routes.items():
            app.router.add_get(path, handler)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)  # hung up: handler ends
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self._runner.cleanup()

    @web.middleware
    async def _record(self, request: web.Request, handler):
        self.seen.append(Seen(request.path_qs, dict(request.headers)))
        return await handler(request)

    async def _chain(self, request: web.Request) -> web.StreamResponse:
        left = int(request.match_info["left"])
        if left == 0:
            return _html(page(f"After the chain on {self.title}"))
        raise web.HTTPFound(f"/chain/{left - 1}")

    async def _to(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(request.query["location"])

    async def _cookie(self, request: web.Request) -> web.StreamResponse:
        response = web.HTTPFound("/title")
        response.set_cookie("session", "secret")
        raise response


def _answer(make):
    async def handler(request: web.Request) -> web.StreamResponse:
        return make()
    return handler


async def _status(request: web.Request) -> web.Response:
    return web.Response(status=int(request.match_info["code"]))


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html")


def _gzip(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="text/html", headers={"Content-Encoding": "gzip"})


async def _endless(request: web.Request, *, first: bytes) -> web.StreamResponse:
    """`first`, then 64 KB of junk after 64 KB, 3 MB in all, with no Content-Length."""
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(first)
    for _ in range(48):
        await response.write(b"x" * (64 * 1024))
    await response.write_eof()
    return response


async def _declared(request: web.Request, *, content_type: str) -> web.StreamResponse:
    """Says it will send 50 MB, then sends nothing: only the header can make a fetcher stop."""
    response = web.StreamResponse(headers={"Content-Type": content_type})
    response.content_length = 50 * MB
    await response.prepare(request)
    await asyncio.Event().wait()  # until the fetcher hangs up (handler_cancellation)
    return response


async def _slow(request: web.Request) -> web.StreamResponse:
    """A page that never ends: a byte at a time, forever (until the fetcher hangs up)."""
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(b"<!doctype html><html><head>")
    while True:
        await response.write(b" ")
        await asyncio.sleep(0.01)


async def _big_image(request: web.Request) -> web.StreamResponse:
    """An image of `?size=` bytes, streamed without a Content-Length."""
    response = web.StreamResponse(headers={"Content-Type": "image/png"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    left = int(request.query.get("size", MB))
    await response.write(PIXEL)
    left -= len(PIXEL)
    while left > 0:
        await response.write(b"\0" * min(left, 64 * 1024))
        left -= 64 * 1024
    await response.write_eof()
    return response
