"""Each private hook in app/compat.py, checked against the installed Hypercorn, Quart and Tortoise.

When an upgrade removes or changes one of these private APIs, the test fails naming the hook and
the version range pyproject.toml pins: adapt app/compat.py before lifting the cap."""
from __future__ import annotations

import asyncio
import contextvars
import inspect
import re
import tomllib
from importlib.metadata import version

import pytest

from app import compat
from app.config import ROOT, tortoise_config


def pinned(package: str) -> str:
    """`package>=a,<b` as pyproject.toml's dependencies pin it."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in dependencies:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group()
        if name.lower() == package.lower():
            return re.sub(r"\[.*?\]", "", requirement)
    raise AssertionError(f"{package} is not a dependency in pyproject.toml")


def require(condition: bool, hook: str, package: str, what: str) -> None:
    assert condition, (
        f"app/compat.py {hook}: {package} {version(package)} changed a private API it relies on "
        f"({what}); pyproject.toml pins {pinned(package)}. Adapt the hook before lifting the cap."
    )


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


# --- Hypercorn: decline_websocket_compression ---------------------------------------------------

OFFER = [
    (b"connection", b"Upgrade"), (b"upgrade", b"websocket"), (b"sec-websocket-version", b"13"),
    (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
    (b"sec-websocket-extensions", b"permessage-deflate; client_max_window_bits"),
]


def test_hypercorn_handshake_hook():
    from hypercorn.protocol import ws_stream

    hook = "decline_websocket_compression (hypercorn.protocol.ws_stream.Handshake.__init__)"
    init = inspect.unwrap(ws_stream.Handshake.__init__)
    require(parameters(init) == ["self", "headers", "http_version"], hook, "hypercorn",
            f"Handshake.__init__ takes {parameters(init)}, not (self, headers, http_version)")
    offered = object.__new__(ws_stream.Handshake)
    init(offered, OFFER, "1.1")
    require(getattr(offered, "extensions", None) == ["permessage-deflate; client_max_window_bits"], hook,
            "hypercorn", "the offered extensions are no longer kept in Handshake.extensions")
    _, headers, _ = offered.accept(None, [])
    require(b"sec-websocket-extensions" in dict(headers), hook, "hypercorn",
            "Handshake.accept no longer agrees to an offered permessage-deflate")

    compat.decline_websocket_compression()
    compat.decline_websocket_compression()  # idempotent: wrapped once
    assert inspect.unwrap(ws_stream.Handshake.__init__) is init
    declined = ws_stream.Handshake(OFFER, "1.1")
    _, headers, connection = declined.accept(None, [])
    require(b"sec-websocket-extensions" not in dict(headers), hook, "hypercorn",
            "Handshake.accept agrees to deflate although Handshake.extensions is None")
    assert declined.is_valid()


# --- Hypercorn: on_hypercorn_shutdown -----------------------------------------------------------

async def test_hypercorn_shutdown_hook(monkeypatch):
    import hypercorn.asyncio.run as run

    hook = "on_hypercorn_shutdown (hypercorn.asyncio.run.check_multiprocess_shutdown_event)"
    original = inspect.unwrap(getattr(run, "check_multiprocess_shutdown_event", None) or (lambda: None))
    require(inspect.iscoroutinefunction(original), hook, "hypercorn",
            "hypercorn.asyncio.run.check_multiprocess_shutdown_event is gone or no longer a coroutine")
    require(parameters(original) == ["shutdown_event", "sleep"], hook, "hypercorn",
            f"check_multiprocess_shutdown_event takes {parameters(original)}, not (shutdown_event, sleep)")
    for worker in (run.asyncio_worker, run.uvloop_worker):
        require("check_multiprocess_shutdown_event" in worker.__code__.co_names, hook, "hypercorn",
                f"{worker.__name__} no longer looks check_multiprocess_shutdown_event up by name when it runs")
        require(worker.__code__.co_names.index("load_application")
                < worker.__code__.co_names.index("check_multiprocess_shutdown_event"), hook, "hypercorn",
                f"{worker.__name__} looks the trigger up before it loads the app (which installs the hook)")

    monkeypatch.setattr(run, "check_multiprocess_shutdown_event", original)
    monkeypatch.setattr(compat, "_on_shutdown", [])
    calls = []

    def callback() -> None:
        calls.append("closed")

    compat.on_hypercorn_shutdown(callback)
    compat.on_hypercorn_shutdown(callback)  # registered once
    looked_twice = asyncio.Event()

    class Event:
        """multiprocessing's event, counting how often the trigger looks at it."""
        set, looks = False, 0

        def is_set(self) -> bool:
            self.looks += 1
            if self.looks >= 2:
                looked_twice.set()
            return self.set

    event = Event()
    trigger = asyncio.ensure_future(run.check_multiprocess_shutdown_event(event, lambda _: asyncio.sleep(0)))
    await asyncio.wait_for(looked_twice.wait(), 1)  # a barrier: it has looked, found nothing, waited, looked again
    assert calls == [] and not trigger.done()
    event.set = True
    await asyncio.wait_for(trigger, 1)
    assert calls == ["closed"]


# --- Hypercorn, Quart, wsproto: direct_writer ---------------------------------------------------

async def test_direct_writer_hooks():
    """On a real Hypercorn, an accepted socket's writer exists and its frames reach the client in
    order with what Quart sends; each link it follows is checked by name, so an upgrade that moves
    one fails here, naming it (served any other way, direct_writer gives None: today's path)."""
    import functools

    from hypercorn.asyncio import serve
    from hypercorn.asyncio.tcp_server import TCPServer
    from hypercorn.config import Config
    from hypercorn.protocol.h11 import H11Protocol
    from hypercorn.protocol.ws_stream import WSStream
    from quart import Quart, websocket
    from websockets.asyncio.client import connect

    from app.realtime.direct import WRITE_LIMIT, text_frame
    from tests.helpers.ports import free_port

    hook = "direct_writer"
    compat.decline_websocket_compression()
    app, seen = Quart(__name__), {}

    @app.websocket("/probe")
    async def probe():
        await websocket.accept()
        socket = websocket._get_current_object()
        send = seen["send"] = getattr(socket, "_send", None)
        asgi_send = send.args[0] if isinstance(send, functools.partial) and send.args else None
        seen["stream"] = stream = getattr(asgi_send, "__self__", None)
        seen["protocol"] = protocol = getattr(getattr(stream, "send", None), "__self__", None)
        seen["server"] = getattr(getattr(protocol, "send", None), "__self__", None)
        seen["connection"] = getattr(stream, "connection", None)
        writer = seen["writer"] = compat.direct_writer(websocket)
        if writer is not None and writer.writable(WRITE_LIMIT):
            writer.write(text_frame("straight to the transport"))
        await websocket.send("then through Quart")
        await websocket.receive()  # until the client is done

    config, stop = Config(), asyncio.Event()
    config.bind, config.accesslog, config.errorlog = [f"127.0.0.1:{free_port()}"], None, None
    serving = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    try:
        for _ in range(500):
            try:
                client = await connect(f"ws://{config.bind[0]}/probe")
                break
            except OSError:
                await asyncio.sleep(0.01)  # not listening yet: try again
        got = [await asyncio.wait_for(client.recv(), 5) for _ in range(2 if seen.get("writer") else 1)]
        await client.send("done")
        await client.close()
    finally:
        stop.set()
        await serving
    require(isinstance(seen["send"], functools.partial), hook, "quart",
            "Websocket._send is no longer functools.partial(send_data, asgi_send)")
    require(isinstance(seen["stream"], WSStream), hook, "hypercorn",
            "the ASGI send is no longer a bound WSStream.app_send")
    for name in ("state", "closed", "connection", "send"):
        require(hasattr(seen["stream"], name), hook, "hypercorn", f"WSStream has no {name}")
    require(isinstance(seen["protocol"], H11Protocol), hook, "hypercorn", "WSStream.send is no longer H11Protocol's")
    require(isinstance(seen["server"], TCPServer) and hasattr(seen["server"].writer, "transport"), hook, "hypercorn",
            "H11Protocol.send is no longer the asyncio TCPServer's, with a writer")
    require(getattr(getattr(seen["connection"], "_proto", None), "extensions", None) == [], hook, "wsproto",
            "wsproto's Connection no longer keeps its extensions in _proto.extensions")
    assert seen["writer"] is not None, "direct_writer found no transport although every link is in place"
    assert got == ["straight to the transport", "then through Quart"]

    async with app.test_app():  # served another way (Quart's test client): None, today's path
        async with app.test_client().websocket("/probe") as socket:
            await socket.receive()
            await socket.send("done")
    assert seen["writer"] is None


# --- Quart: direct_sender -----------------------------------------------------------------------

async def test_quart_websocket_send_hook():
    from quart import Quart, websocket
    from quart.wrappers.websocket import Websocket

    hook = "direct_sender (quart.wrappers.websocket.Websocket._send)"
    require("send" in parameters(Websocket.__init__), hook, "quart",
            "Websocket.__init__ no longer takes the connection's send")
    require("self._send(" in inspect.getsource(Websocket.send), hook, "quart",
            "Websocket.send no longer ends in self._send(data)")
    app = Quart(__name__)
    seen = {}

    @app.websocket("/probe")
    async def probe():
        await websocket.accept()
        send = compat.direct_sender(websocket)
        seen["private"] = getattr(websocket._get_current_object(), "_send", None)
        seen["direct"] = send == seen["private"]  # not the public send
        await send("through the direct sender")

    async with app.test_app():
        async with app.test_client().websocket("/probe") as socket:
            assert await socket.receive() == "through the direct sender"
    require(callable(seen["private"]) and seen["direct"], hook, "quart",
            "an accepted Websocket has no callable _send (direct_sender falls back to the slower public send)")


# --- Tortoise: model_columns, model_from_row, init_tortoise -------------------------------------

async def test_tortoise_hooks(tmp_path):
    from tortoise import Tortoise
    from tortoise.models import Model

    from app.models import Message, User

    hook = "init_tortoise (Tortoise.init(_enable_global_fallback=True))"
    require("_enable_global_fallback" in parameters(Tortoise.init), hook, "tortoise-orm",
            "Tortoise.init no longer takes _enable_global_fallback")
    await compat.init_tortoise(tortoise_config(f"sqlite://{tmp_path / 'compat.db'}"))
    try:
        async def elsewhere():  # a task that did not inherit the context, like Quart's requests
            return Tortoise.get_connection("default")

        reached = await asyncio.create_task(elsewhere(), context=contextvars.Context())
        require(reached is not None, hook, "tortoise-orm", "a task without the context reaches no connection")

        hook = "model_columns (Model._meta.db_fields)"
        columns = getattr(getattr(Message, "_meta", None), "db_fields", None)
        require(isinstance(columns, set) and {"id", "body", "conversation_id", "author_id"} <= columns, hook,
                "tortoise-orm", f"Message._meta.db_fields is {columns!r}, not the set of its column names")
        assert compat.model_columns(Message) == columns

        hook = "model_from_row (Model._init_from_db)"
        init = getattr(Model, "_init_from_db", None)
        require(init is not None and parameters(init) == ["kwargs"], hook, "tortoise-orm",
                "Model._init_from_db(**columns) is gone or takes other arguments")
        await Tortoise.generate_schemas()
        made = await User.create(username="ada", username_key="ada", email="ada@example.com", password_hash="x")
        conn = Tortoise.get_connection("default")
        row = (await conn.execute_query_dict("SELECT * FROM users WHERE id = ?", [made.id]))[0]
        read = compat.model_from_row(User, {column: row[column] for column in compat.model_columns(User)})
        fetched = await User.get(id=made.id)
        require(type(read) is User and read._saved_in_db and not read._partial, hook, "tortoise-orm",
                "_init_from_db no longer makes a saved, complete instance")
        fields = User._meta.fields_db_projection  # field name -> column
        require({name: getattr(read, name) for name in fields} == {name: getattr(fetched, name) for name in fields},
                hook, "tortoise-orm", "_init_from_db converts a row differently from a queryset")
    finally:
        await Tortoise.close_connections()


def test_every_hook_is_named_in_a_version_cap():
    """pyproject.toml's caps say which hooks hold them."""
    lines = (ROOT / "pyproject.toml").read_text().split("dependencies = [", 1)[1].split("]\n", 1)[0].splitlines()

    def comment_of(package: str) -> str:
        at = next(n for n, line in enumerate(lines) if re.match(rf'\s*"{re.escape(package)}[\[<>=]', line))
        above = []
        for line in reversed(lines[:at]):
            if not line.strip().startswith("#"):
                break
            above.append(line)
        return " ".join([*reversed(above), lines[at]])

    for hook, package in [("decline_websocket_compression", "hypercorn"), ("on_hypercorn_shutdown", "hypercorn"),
                          ("direct_writer", "hypercorn"), ("direct_writer", "wsproto"), ("direct_writer", "quart"),
                          ("direct_sender", "quart"), ("model_columns", "tortoise-orm"),
                          ("model_from_row", "tortoise-orm"), ("init_tortoise", "tortoise-orm")]:
        assert hook in comment_of(package), f"pyproject.toml: the comment above {package}'s cap does not name {hook}"
        assert "<" in pinned(package), f"{package} is not capped although app/compat.py {hook} relies on it"


@pytest.mark.parametrize("name", [name for name in dir(compat) if not name.startswith("_")
                                  and inspect.isfunction(getattr(compat, name))
                                  and getattr(compat, name).__module__ == "app.compat"])
def test_every_hook_says_what_it_relies_on(name):
    assert "Relies on" in (getattr(compat, name).__doc__ or ""), f"app/compat.py {name}: say what it relies on"
