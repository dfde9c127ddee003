"""Hypercorn's websocket handshake, without permessage-deflate.

Hypercorn accepts compression whenever a browser offers it (every browser does), and keeps a
zlib compressor and decompressor per socket. Measured on /live (1,000 idle pages, one worker):
~150 KiB of server memory per socket with deflate, ~50 KiB without. What /live sends is a few
hundred bytes of HTML per event, where deflate saves little, and it would cost one compression
per recipient of every event (the same bytes compressed N times). So Huddle declines it.
"""
from __future__ import annotations

from hypercorn.protocol import ws_stream

_original_init = ws_stream.Handshake.__init__


def _init_without_compression(self, headers, http_version) -> None:
    _original_init(self, headers, http_version)
    self.extensions = None  # as if the client offered no extension


def decline_compression() -> None:
    """Idempotent; called by create_app, so every way of serving the app gets it."""
    ws_stream.Handshake.__init__ = _init_without_compression


def direct_sender(socket):
    """The accepted socket's ASGI send, without what Quart's `Websocket.send` adds per frame: an
    `await asyncio.sleep(0)` (a full event-loop round trip, so a tight loop cannot starve others)
    and an accept check. A live socket sends only after accepting, and only when the broker gave
    it something, so neither is needed there; the round trip was a task wake-up per recipient on
    the fan-out path (measured in bench/: see README). Private to Quart (`_send`): checked by
    tests/test_live.py on every run, and falling back to the public send if it goes."""
    socket = socket._get_current_object() if hasattr(socket, "_get_current_object") else socket
    send = getattr(socket, "_send", None)
    return send if callable(send) else socket.send
