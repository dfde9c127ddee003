"""Fan-out written once: each event's websocket frame is built once and written straight to every
socket that can take it now, in the publisher's loop (app/compat.py's direct_writer reaches the
transport). A socket takes the direct path only when nothing of its own is in flight: its queue is
empty, its sender is idle, no action of its client holds its lock, it has said where it is, and its
transport is open and not backed up (at most WRITE_LIMIT bytes waiting). Anything else — a backed-up
or closing socket, a gap to fill from the database, a membership change, a close — takes the queued
path (app/realtime/serving.py), with today's bounds (QUEUE_LIMIT events, then 1013 and catch-up).
Once one event of a socket is queued, the ones after it are queued too (the queue is not empty), so
the order is the broker's either way."""
from __future__ import annotations

import struct

WRITE_LIMIT = 64 * 1024  # the transport's default high-water mark: past it, the slow path's drain waits


def text_frame(text: str) -> bytes:
    """One unfragmented, unmasked text frame (RFC 6455 §5.2), as a server sends it."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        head = bytes((0x81, size))
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x81, 126, size)
    else:
        head = struct.pack("!BBQ", 0x81, 127, size)
    return head + payload


class Frames(dict):
    """The frames built for one event while it is handed out: one per distinct text (a page's
    fragment, a program's JSON, a messenger frame), whoever gets it."""

    def of(self, text: str) -> bytes:
        frame = self.get(text)
        if frame is None:
            frame = self[text] = text_frame(text)
        return frame


class Direct:
    """Mixed into Connection (app/realtime/connection.py), whose writer, lock, cursor, dialect and
    readiness it reads: the direct path of one socket."""

    def direct(self, event, frames: Frames) -> bool:
        """Write `event` now if this socket can take it with nothing of its own before it; True when
        it was handled so (written, or rightly not: a duplicate, nothing for this dialect). False:
        it must take the queue (app/realtime/serving.py's sender, which does all the rest)."""
        if (not self.ready or self.lock.locked() or event.close is not None or event.kind == "membership"
                or not self.writer.writable(WRITE_LIMIT)):
            return False
        if event.seq is not None:
            taken = self.cursor.take(event)
            if taken is None:
                return False  # a gap: the sender fills it from the database first
            if not taken:
                return True
        text = self.dialect.render(self, event)
        if text:
            self.writer.write(frames.of(text))
        return True
