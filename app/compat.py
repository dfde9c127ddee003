"""Every use of a private part of Hypercorn, Quart or Tortoise, in one place.

Each function below is one hook: its docstring says which private API it relies on, and why
the public one would not do. tests/test_compat.py checks each against the installed release and
fails naming the hook and the version range pinned in pyproject.toml, whose caps name these
hooks; lift a cap only once those tests pass on the new release.

- decline_websocket_compression: Hypercorn `ws_stream.Handshake.__init__` and `.extensions`
- on_hypercorn_shutdown: Hypercorn `hypercorn.asyncio.run.check_multiprocess_shutdown_event`
- direct_sender: Quart `Websocket._send`
- direct_writer: Quart `Websocket._send` (a partial of the ASGI send), Hypercorn `WSStream` (`state`,
  `closed`, `connection`, `send`), `H11Protocol.send`, `TCPServer.writer`; wsproto `Connection.state`
  and `Connection._proto.extensions`
- model_columns, model_from_row: Tortoise `Model._meta.db_fields`, `Model._init_from_db`
- init_tortoise: Tortoise `Tortoise.init(_enable_global_fallback=True)`
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tortoise import Tortoise
from tortoise.models import Model

M = TypeVar("M", bound=Model)


# --- Hypercorn ----------------------------------------------------------------------------------

def decline_websocket_compression() -> None:
    """Serve websockets without permessage-deflate, whatever the browser offers.

    Hypercorn accepts compression whenever a browser offers it (every browser does), and keeps a
    zlib compressor and decompressor per socket. Measured on /live (1,000 idle pages, one
    worker): ~150 KiB of server memory per socket with deflate, ~50 KiB without. What /live sends
    is a few hundred bytes of HTML per event, where deflate saves little, and it would cost one
    compression per recipient of every event (the same bytes compressed N times).

    Hypercorn has no setting for it. Relies on `hypercorn.protocol.ws_stream.Handshake.__init__(
    self, headers, http_version)` storing the offered extensions in `self.extensions`, which
    `Handshake.accept` reads: we let it parse, then clear them, as if none were offered.
    Idempotent; create_app calls it, so every way of serving the app gets it."""
    from hypercorn.protocol import ws_stream

    original = ws_stream.Handshake.__init__
    if getattr(original, "declines_compression", False):
        return

    @functools.wraps(original)
    def __init__(self, headers, http_version) -> None:
        original(self, headers, http_version)
        self.extensions = None  # as if the client offered no extension

    __init__.declines_compression = True
    ws_stream.Handshake.__init__ = __init__


_on_shutdown: list[Callable[[], None]] = []


def on_hypercorn_shutdown(callback: Callable[[], None]) -> None:
    """Call `callback` as soon as a Hypercorn worker is told to stop, before its graceful wait.

    Hypercorn gives the app no signal before that wait: its workers poll a multiprocessing event
    set by the master on SIGTERM/SIGINT, then stop accepting and wait up to `graceful_timeout`
    for open connections (the lifespan shutdown comes only after). Relies on
    `hypercorn.asyncio.run.check_multiprocess_shutdown_event(shutdown_event, sleep)`, a coroutine
    that returns once the event is set, being looked up by name in that module by
    `asyncio_worker` (and `uvloop_worker`) after it loads the app, which is when this runs: we
    replace it with one that awaits the original, then calls each callback. Each callback is
    called once per shutdown however often it is registered. Served by another ASGI server
    (no hypercorn.asyncio), this does nothing."""
    if callback in _on_shutdown:
        return
    _on_shutdown.append(callback)
    try:
        import hypercorn.asyncio.run as run
    except ImportError:
        return
    original = run.check_multiprocess_shutdown_event
    if getattr(original, "calls_huddle_callbacks", False):
        return

    @functools.wraps(original)
    async def trigger(shutdown_event, sleep) -> None:
        await original(shutdown_event, sleep)
        for each in list(_on_shutdown):
            each()

    trigger.calls_huddle_callbacks = True
    run.check_multiprocess_shutdown_event = trigger


# --- Quart --------------------------------------------------------------------------------------

def direct_sender(socket) -> Callable[[str | bytes], Any]:
    """The accepted socket's send, without what Quart's `Websocket.send` adds per frame: an
    `await asyncio.sleep(0)` (a full event-loop round trip, so a tight loop cannot starve others)
    and an accept check. A live socket sends only after accepting, and only when the broker gave
    it something, so neither is needed there; the round trip was a task wake-up per recipient on
    the fan-out path (measured in bench/: see README).

    Relies on Quart's `Websocket._send(data)` (what `Websocket.send` awaits last). If it goes,
    this falls back to the public send (slower, still correct)."""
    socket = socket._get_current_object() if hasattr(socket, "_get_current_object") else socket
    send = getattr(socket, "_send", None)
    return send if callable(send) else socket.send


class DirectWriter:
    """Writes ready-made websocket frames straight to one connection's transport (app/realtime/
    direct.py builds them): for a socket that is open, not closing and not backed up."""

    __slots__ = ("stream", "transport", "connected", "open")

    def __init__(self, stream, transport, connected, open_state) -> None:
        self.stream, self.transport, self.connected, self.open = stream, transport, connected, open_state

    def writable(self, limit: int) -> bool:
        """Open both ways, not closing, and at most `limit` bytes waiting to go out."""
        stream, transport = self.stream, self.transport
        return (not stream.closed and stream.state is self.connected and stream.connection.state is self.open
                and not transport.is_closing() and transport.get_write_buffer_size() <= limit)

    def write(self, frame: bytes) -> None:
        self.transport.write(frame)


def direct_writer(socket) -> DirectWriter | None:
    """A writer of whole frames straight to this accepted socket's transport, or None where that
    cannot be done safely (then every event takes the framework's path, as before).

    The same frame serves every recipient (a server's frames are not masked), so fan-out builds it
    once and writes it to each open socket in the publisher's loop: no task wake-up and no call
    through Quart, Hypercorn and wsproto per recipient (measured in bench/: see README). Sound
    because Hypercorn writes each frame it sends in one `transport.write` (so frames never
    interleave), wsproto keeps no state about whole outgoing data frames, and we decline every
    extension (decline_websocket_compression), so a frame is header + payload.

    Relies on: Quart's `Websocket._send` being `functools.partial(send_data, asgi_send)`; that ASGI
    send being Hypercorn's bound `WSStream.app_send`; the stream's `state`, `closed`, `connection`
    (wsproto, whose `state` and `_proto.extensions` we read) and `send`, bound to an `H11Protocol`
    (HTTP/2's websockets wrap frames in DATA frames: not these) whose `send` is the asyncio
    `TCPServer.protocol_send`, whose `writer.transport` is the socket's. Any of these missing or of
    another kind (another server, Trio, HTTP/2): None."""
    try:
        from hypercorn.asyncio.tcp_server import TCPServer
        from hypercorn.protocol.h11 import H11Protocol
        from hypercorn.protocol.ws_stream import ASGIWebsocketState, WSStream
        from wsproto.connection import ConnectionState
    except ImportError:
        return None
    socket = socket._get_current_object() if hasattr(socket, "_get_current_object") else socket
    send = getattr(socket, "_send", None)
    if not isinstance(send, functools.partial) or not send.args:
        return None
    stream = getattr(send.args[0], "__self__", None)
    if not isinstance(stream, WSStream) or getattr(send.args[0], "__func__", None) is not WSStream.app_send:
        return None
    protocol = getattr(stream.send, "__self__", None)
    server = getattr(getattr(protocol, "send", None), "__self__", None)
    if not isinstance(protocol, H11Protocol) or not isinstance(server, TCPServer):
        return None
    connection = getattr(stream, "connection", None)
    extensions = getattr(getattr(connection, "_proto", None), "extensions", None)
    transport = getattr(getattr(server, "writer", None), "transport", None)
    if extensions != [] or getattr(connection, "state", None) is not ConnectionState.OPEN or transport is None:
        return None
    return DirectWriter(stream, transport, ASGIWebsocketState.CONNECTED, ConnectionState.OPEN)


# --- Tortoise -----------------------------------------------------------------------------------

def model_columns(model: type[Model]) -> Iterable[str]:
    """The database columns of a model's own fields (foreign keys as their `_id` column).

    Relies on Tortoise's `Model._meta.db_fields` (a set of column names): there is no public way
    to ask which columns a model reads; app/models/reads.py selects exactly these."""
    return model._meta.db_fields


def model_from_row(model: type[M], row: dict[str, Any]) -> M:
    """A model instance from one database row (column name -> value), as Tortoise's own executor
    makes one after a query: values converted to Python, saved, not partial.

    Relies on Tortoise's `Model._init_from_db(**columns)`, the path every queryset takes; the
    public constructor would treat the row as a new, unsaved object and skip the conversions.
    app/models/reads.py runs hot queries as plain SQL and uses this for the rows."""
    return model._init_from_db(**row)


async def init_tortoise(config: dict) -> None:
    """Tortoise.init whose connections every task can reach.

    Tortoise 1.x keeps its state in a context variable: Quart's requests and websockets run in
    other tasks than `before_serving`, which then saw none ("No TortoiseContext"; the public
    register_tortoise failed the same way). Relies on the private `_enable_global_fallback=True`
    argument of `Tortoise.init`, which also makes this context the fallback for tasks that have
    none; `Tortoise.close_connections()` clears it again."""
    await Tortoise.init(config=config, _enable_global_fallback=True)
