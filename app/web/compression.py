"""Responses compressed for the wire: brotli where the client takes it, else gzip, else as they
are (Accept-Encoding, with its q-values: `br;q=0` refuses brotli). Only text that gains from it —
HTML, CSS, JavaScript, JSON, SVG — and only past MIN_BYTES (a small body's headers cost more
than it saves). Never a websocket (this runs after HTTP requests only), never a body that streams
(a file download answered from storage, with its byte ranges: app/storage/serve.py), never an
image already compressed, never a response that names its own encoding or a byte range.

Pages are compressed per response, so at a level chosen for CPU, measured on the room page (50
messages: 152 KB as rendered) - brotli 2: 9.1 KB in 0.55-0.63 ms, where 3 gives 9.4 KB in 0.78,
4 gives 8.6 KB in 1.1-1.3 and 5 gives 7.8 KB in 2.0-2.3 (a quarter of the page's own CPU); on a
33 KB page 6.9 KB in 0.28 ms (5: 6.0 KB in 0.88). gzip 3 for browsers that send no `br` (plain
HTTP): 12.6 KB in 0.83 ms, where 6 gives 11.2 KB in 1.7. A self-hosted server answers every page
itself; a kilobyte more is nothing on the wire. Static files are compressed once each, at the
best level, by app/web/assets.py."""

from __future__ import annotations

import gzip

import brotli
from quart import Quart, Request, Response, request
from quart.wrappers.response import DataBody

MIN_BYTES = 1024
PAGE_BROTLI, PAGE_GZIP = 2, 3  # per response: see above
TEXT_TYPES = frozenset({"application/json", "application/javascript", "image/svg+xml", "application/xml"})
SKIPPED_STATUSES = frozenset({204, 206, 304})


def compressible(mimetype: str | None, size: int) -> bool:
    """Worth compressing: text of some kind, big enough."""
    kind = (mimetype or "").lower()
    text = kind.startswith("text/") or kind in TEXT_TYPES or kind.endswith("+json") or kind.endswith("+xml")
    return text and size >= MIN_BYTES


def chosen(req: Request) -> str | None:
    """The encoding to send: "br", "gzip" or None (identity), by the client's preferences."""
    accepted = req.accept_encodings
    br, gz = accepted["br"], accepted["gzip"]
    if br > 0 and br >= gz:
        return "br"
    return "gzip" if gz > 0 else None


def compress(data: bytes, coding: str, *, best: bool = False) -> bytes:
    if coding == "br":
        return brotli.compress(data, mode=brotli.MODE_TEXT, quality=11 if best else PAGE_BROTLI)
    return gzip.compress(data, compresslevel=9 if best else PAGE_GZIP, mtime=0)


async def compress_response(response: Response) -> Response:
    """An in-memory text response of some size, compressed as the client prefers."""
    if (response.status_code in SKIPPED_STATUSES or response.status_code < 200
            or not isinstance(response.response, DataBody)
            or "Content-Encoding" in response.headers or "Content-Range" in response.headers
            or "Content-Disposition" in response.headers):
        return response
    data = response.response.data
    if not compressible(response.mimetype, len(data)):
        return response
    response.vary.add("Accept-Encoding")
    coding = chosen(request)
    if coding is None:
        return response
    response.set_data(compress(data, coding))
    response.headers["Content-Encoding"] = coding
    etag, weak = response.get_etag()
    if etag:
        response.set_etag(f"{etag}-{coding}", weak=bool(weak))
    return response


def init_app(app: Quart) -> None:
    app.after_request(compress_response)
