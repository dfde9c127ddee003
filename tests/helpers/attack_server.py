"""A web site of our own on 127.0.0.x playing the tricks a link preview fetcher must survive: long
redirect chains, redirects into the machine, pages that never end, a body that trickles forever,
a declared length far too large, a gzip bomb, something that is not HTML, images too large; and
a DNS whose answers change (Resolver).

An aiohttp.web server in the test's own event loop, on a port of tests/helpers/ports.py; it
records each request it answered (path and headers), so a test sees what the fetcher sent."""
from __future__ import annotations

import asyncio
import datetime
import functools
import gzip
import ssl
import zlib
from dataclasses import dataclass, field

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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


class Resolver:
    """A DNS playing tricks (the fetcher's `_resolve`): each lookup takes the next answer (the
    last one again when they run out), and `calls` names the hosts looked up."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers, self.calls = list(answers), []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class AttackServer:
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    title: str = "The page"  # the title of /title, to tell two servers apart
    tls: ssl.SSLContext | None = None  # https, with this context (tls_contexts)
    seen: list[Seen] = field(default_factory=list)

    @property
    def key(self) -> str:
        """This server as HUDDLE_PREVIEW_ALLOWED_HOSTS names it."""
        return f"{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"{'https' if self.tls else 'http'}://{self.key}{path}"

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
            "/deflate/{form}": _deflated,
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
        await web.TCPSite(self._runner, self.host, self.port, ssl_context=self.tls).start()
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


async def _deflated(request: web.Request) -> web.Response:
    """A page deflated with the zlib header (`zlib`), without (`raw`), or said to be in Brotli."""
    form = request.match_info["form"]
    squeeze = zlib.compressobj(wbits=zlib.MAX_WBITS if form == "zlib" else -zlib.MAX_WBITS)
    body = squeeze.compress(page(form).encode()) + squeeze.flush()
    encoding = "br" if form == "br" else "deflate"
    return web.Response(body=body, content_type="text/html", headers={"Content-Encoding": encoding})


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
    """Says it will send 50 MB, then sends nothing (an image) or its head and nothing more (a
    page): only the header, or the head's end, can make a fetcher stop."""
    response = web.StreamResponse(headers={"Content-Type": content_type})
    response.content_length = 50 * MB
    await response.prepare(request)
    if content_type == "text/html":
        await response.write(b"<!doctype html><html><head><title>Fifty megabytes</title></head><body><p>")
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


def tls_contexts(name: str, tmp_path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for `name`, signed by a certificate authority of the
    test's own, and a client context that trusts only that CA (and checks the name)."""
    def certificate(subject: str, key, issuer: str, issuer_key, *, ca: bool, names=()) -> x509.Certificate:
        now, hour = datetime.datetime.now(datetime.UTC), datetime.timedelta(hours=1)
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - hour).not_valid_after(now + hour)
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("Test CA", ca_key, "Test CA", ca_key, ca=True)
    leaf = certificate(name, key, "Test CA", ca_key, ca=False, names=[x509.DNSName(name)])
    pem = serialization.Encoding.PEM
    (tmp_path / "server.pem").write_bytes(leaf.public_bytes(pem) + key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp_path / "server.pem")
    client = ssl.create_default_context(cadata=ca.public_bytes(pem).decode())
    return server, client
