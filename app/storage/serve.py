"""Answering a request for a stored file, once the caller has decided the person may have it.

Every answer carries the same guards, whatever the file: `nosniff` (the type we read from the
bytes is the type), a sandbox CSP (a file opened on its own can run nothing and reach nothing),
caching private to the browser, and a Content-Disposition that shows only safe raster images in
the page and downloads everything else under its own name (app/storage/headers.py).

The file streams from storage in chunks, never held whole in memory, with its ETag (a browser
that has it gets 304) and one byte range when asked (206; 416 past the end), so a video or a big
download can resume. A storage that can sign URLs (S3) is answered with a redirect to a URL that
lives a few minutes and downloads the file with the same type and disposition; it is never cached,
since it expires."""
from __future__ import annotations

import re
from collections.abc import AsyncIterator

from quart import Response, abort, request

from app.storage import Storage
from app.storage.headers import disposition, media_type, shown_inline

CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
CACHE = "private, max-age=86400"
SIGNED_SECONDS = 300
RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.IGNORECASE)
UNSATISFIABLE = "unsatisfiable"


def guards() -> dict[str, str]:
    """The headers on every file response."""
    return {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": CSP}


def byte_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """One range of a Range header as (start, end exclusive); UNSATISFIABLE when it begins past
    the end; None (send it all) when absent, malformed or several ranges (RFC 9110 allows that)."""
    match = RANGE.fullmatch((header or "").strip())
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":  # the last n bytes
        suffix = int(last)
        return (max(0, size - suffix), size) if suffix and size else UNSATISFIABLE
    start = int(first)
    if last and int(last) < start:
        return None  # backwards: not a range at all
    if start >= size:
        return UNSATISFIABLE
    return start, min(int(last) + 1, size) if last else size


def matches(header: str | None, etag: str) -> bool:
    """If-None-Match: does the browser's copy have this ETag (weakly compared, or `*`)?"""
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or f'"{etag}"' in tags


async def respond(storage: Storage, key: str, *, name: str, content_type: str, size: int, inline: bool,
                  etag: str) -> Response:
    """The file's response: 304, 302 to a signed URL, 206 or 416 for a range, else 200."""
    inline = shown_inline(content_type, inline)
    kind = media_type(content_type)
    headers = guards() | {"Cache-Control": CACHE, "ETag": f'"{etag}"'}
    if request.method in {"GET", "HEAD"} and matches(request.headers.get("If-None-Match"), etag):
        return Response(b"", status=304, headers=headers, content_type=kind)
    signed = await storage.signed_url(key, filename=name, content_type=kind, inline=inline, seconds=SIGNED_SECONDS)
    if signed is not None:
        return Response(b"", status=302, headers=guards() | {"Location": signed, "Cache-Control": "private, no-store"},
                        content_type="text/plain")
    headers |= {"Content-Disposition": disposition(name, inline=inline), "Accept-Ranges": "bytes"}
    if_range = request.headers.get("If-Range")
    wanted = byte_range(request.headers.get("Range"), size) if if_range in (None, f'"{etag}"') else None
    if wanted == UNSATISFIABLE:
        return Response(b"", status=416, headers=headers | {"Content-Range": f"bytes */{size}"},
                        content_type="text/plain")
    start, end = wanted or (0, size)
    status = 206 if wanted else 200
    if wanted:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    body = await _opened(storage.stream(key, start, end)) if end > start else _nothing()
    response = Response(body, status=status, headers=headers | {"Content-Length": str(end - start)},
                        content_type=kind)
    response.timeout = None  # a big file on a slow line takes as long as it takes
    return response


async def _opened(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The stream with its first chunk read now: a file missing from storage is a 404 page, not a
    response cut off after its headers."""
    try:
        first = await anext(chunks, b"")
    except FileNotFoundError:
        abort(404)

    async def rest() -> AsyncIterator[bytes]:
        try:
            yield first
            async for chunk in chunks:
                yield chunk
        finally:
            await chunks.aclose()
    return rest()


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""
