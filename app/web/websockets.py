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
