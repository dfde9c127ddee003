"""A fetched body read within a limit (app/links/fetch.py): counted after decompression, which is
done here, by hand, so that a small gzip bomb is never inflated past the limit (aiohttp's own
decompression is off: it would inflate a whole chunk first)."""
from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable

import aiohttp

from app.links.errors import Refused

CHUNK = 64 * 1024
ENCODINGS = frozenset({"identity", "", "gzip", "x-gzip", "deflate"})  # what the fetcher asks for, and none


def declared(response: aiohttp.ClientResponse, limit: int) -> None:
    """Refused before reading a byte when the answer says it is larger than `limit`."""
    if response.content_length is not None and response.content_length > limit:
        raise Refused("too large")


def _inflater(encoding: str, first: bytes):
    """A decompressor for the body, from its encoding and its first bytes: gzip or zlib by their
    headers, and raw deflate when "deflate" comes without the zlib header (as some servers send it)."""
    if encoding in ("identity", ""):
        return None
    zlib_header = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
    if encoding == "deflate" and not zlib_header:
        return zlib.decompressobj(-zlib.MAX_WBITS)
    return zlib.decompressobj(32 + zlib.MAX_WBITS)  # gzip or zlib, by the header


async def read(response: aiohttp.ClientResponse, limit: int, sink: Callable[[bytes], Awaitable[object]]) -> bool:
    """Gives `sink` the body, decompressed, up to `limit` bytes. False if there was more (or the
    sink said it has enough: it returned True): a compressed chunk never inflates past limit + 1
    bytes (zlib's max_length), whatever it holds."""
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ENCODINGS:
        raise Refused(f"an encoding not asked for ({encoding[:60]!r})")
    inflate, total, received = None, 0, 0
    async for raw in response.content.iter_chunked(CHUNK):
        if received == 0:
            inflate = _inflater(encoding, raw)
        received += len(raw)
        data = inflate.decompress(raw, limit - total + 1) if inflate is not None else raw
        if total + len(data) > limit or received > limit + CHUNK:  # also bytes after the compressed end
            await sink(data[:limit - total])
            return False
        if await sink(data) is True:
            return False
        total += len(data)
        if inflate is not None and inflate.eof:
            break  # what follows the compressed stream's end is not the body
    return True
