"""The page websocket through Quart's test client: open a page's socket, read from it, see it close."""
from __future__ import annotations

import asyncio
import contextlib
import json

ORIGIN = {"Origin": "http://localhost"}


@contextlib.asynccontextmanager
async def live(client, presence=()):
    """An open page's socket, once connected. Like huddle.js, it says hello (whose presence it
    shows) and waits for the answer: from then on it is subscribed and counted as online. The
    answer is kept as `socket.snapshot`."""
    async with client.raw.websocket("/live", headers=ORIGIN) as socket:
        await hello(socket, presence)
        socket.snapshot = await receive_until(socket, 'id="live-presence" data-snapshot')
        yield socket


async def hello(socket, presence=()) -> None:
    await socket.send(json.dumps({"type": "hello", "presence": list(presence)}))


async def receive(socket, timeout: float = 2.0) -> str:
    return await asyncio.wait_for(socket.receive(), timeout)


async def receive_until(socket, needle: str, timeout: float = 2.0) -> str:
    """Skip other traffic (presence of others) until a message containing needle arrives."""
    async def scan():
        while True:
            message = await socket.receive()
            if needle in message:
                return message
    return await asyncio.wait_for(scan(), timeout)


async def closed(socket, timeout: float = 2.0) -> bool:
    """True once the server has closed the socket."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await socket.receive()
    except Exception as error:  # noqa: BLE001 - the test client raises its disconnect error on close
        return not isinstance(error, TimeoutError)
    return False


async def websocket_status(client, path: str, origin: str | None = "http://localhost", timeout: float = 5.0) -> int:
    """101 once the server has accepted the handshake, else the HTTP status it was refused with.

    Both are events the test client reports; waiting out `timeout` without either is a failure,
    never taken as an answer."""
    from quart.testing import WebsocketResponseError

    headers = {"Origin": origin} if origin else {}
    try:
        async with client.raw.websocket(path, headers=headers) as socket:
            # A refusal arrives as an error on receive(); acceptance only sets `accepted`.
            refusal = asyncio.ensure_future(socket.receive())
            try:
                async with asyncio.timeout(timeout):
                    while not socket.accepted:
                        if refusal.done():
                            refusal.result()  # raises WebsocketResponseError if refused
                            break  # a message without accept() cannot happen; checked below
                        await asyncio.sleep(0.001)
            except TimeoutError:
                raise AssertionError(f"{path}: handshake neither accepted nor refused in {timeout} s") from None
            finally:
                refusal.cancel()
            assert socket.accepted, f"{path}: a message arrived before the handshake was accepted"
            return 101
    except WebsocketResponseError as refused:
        return refused.response.status_code


@contextlib.asynccontextmanager
async def page(client, conversation, after: int | None = None):
    """A conversation page's socket after its hello (as static/js/live.js sends it)."""
    async with client.raw.websocket("/live", headers=ORIGIN) as socket:
        hello = {"type": "hello", "presence": []}
        if conversation is not None:
            hello.update(conversation=conversation.id, after=conversation.last_seq if after is None else after)
        await socket.send(json.dumps(hello))
        socket.replay = []  # what the answer to the hello brought before its closing snapshot
        while 'id="live-unread"' not in (message := await receive(socket)):
            socket.replay.append(message)
        yield socket


async def barrier(socket) -> list[str]:
    """Everything the page got before a fresh hello's answer: a barrier, not a clock."""
    await socket.send(json.dumps({"type": "hello", "presence": []}))
    got = []
    while 'id="live-unread"' not in (message := await receive(socket)):
        got.append(message)
    return got
