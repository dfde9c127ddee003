"""Every use of a private part of Hypercorn, Quart or Tortoise, in one place.

Each function below is one hook: its docstring says which private API it relies on, and why
the public one would not do. tests/test_compat.py checks each against the installed release and
fails naming the hook and the version range pinned in pyproject.toml, whose caps name these
hooks; lift a cap only once those tests pass on the new release.

- decline_websocket_compression: Hypercorn `ws_stream.Handshake.__init__` and `.extensions`
- on_hypercorn_shutdown: Hypercorn `hypercorn.asyncio.run.check_multiprocess_shutdown_event`
- direct_sender: Quart `Websocket._send`
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
