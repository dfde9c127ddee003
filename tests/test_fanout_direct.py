"""Fan-out written once (app/realtime/direct.py): each event's frame is built once and written
straight to every open page that can take it, on the real server (Hypercorn in this process, so the
test can count writes and shrink socket buffers), with real websocket clients. Order, exactness,
ping/pong, close and backpressure stay as they were: a backed-up socket takes the queue, and one
that falls too far behind is closed with 1013 while the others get everything."""
from __future__ import annotations

import asyncio
import json
import re
import socket as sockets

import pytest
import wsproto
from hypercorn.asyncio import serve
from hypercorn.config import Config
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from wsproto.events import TextMessage

from app import compat
from app.accounts import service as accounts
from app.chat import service
from app.models import Conversation
from app.realtime import connection as live_connection
from app.realtime import direct
from app.realtime.broker import Event
from app.runtime import runtime
from tests.helpers import PASSWORD
from tests.helpers.ports import free_port

SEQ = re.compile(r"\bn=(\d+)\b")


def test_a_frame_is_what_wsproto_would_send():
    server = wsproto.Connection(wsproto.ConnectionType.SERVER)
    for text in ["", "a", "é" * 62, "x" * 125, "x" * 126, "ü" * 40_000, "x" * 65_535, "x" * 65_536, "y" * 200_000]:
        assert direct.text_frame(text) == server.send(TextMessage(data=text)), len(text)


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(settings, port):
    """The site also answers on the port Hypercorn serves it on."""
    return settings.model_copy(update={"trusted_hosts": (f"127.0.0.1:{port}",)})


@pytest.fixture
async def hypercorn(app, port):
    """The test's app served by Hypercorn on a free port in this loop (its lifespan already ran)."""
    async def asgi(scope, receive, send):
        if scope["type"] == "lifespan":  # started by the app fixture already
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            return await send({"type": "lifespan.shutdown.complete"})
        await app(scope, receive, send)

    config = Config()
    config.bind, config.accesslog, config.errorlog = [f"127.0.0.1:{port}"], None, None
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(asgi, config, shutdown_trigger=stop.wait))
    url = f"ws://{config.bind[0]}/live"
    for _ in range(500):  # until it listens (each try a real connection attempt)
        try:
            _, writer = await asyncio.open_connection(*config.bind[0].split(":"))
        except OSError:
            await asyncio.sleep(0.01)
            continue
        writer.close()
        break
    yield url
    stop.set()
    await serving


@pytest.fixture
def counted(monkeypatch):
    """How many frames were built and how many were written straight to a transport."""
    counts = {"built": 0, "written": 0}
    build, write = direct.text_frame, compat.DirectWriter.write

    def text_frame(text):
        counts["built"] += 1
        return build(text)

    def counted_write(self, frame):
        counts["written"] += 1
        return write(self, frame)

    monkeypatch.setattr(direct, "text_frame", text_frame)
    monkeypatch.setattr(compat.DirectWriter, "write", counted_write)
    return counts


@pytest.fixture
def room(general):
    """#general, with the admin, alice and bob in it (conftest's)."""
    return general


@pytest.fixture
def small_buffers(monkeypatch):
    """Client ports whose sockets the server gives a small send buffer: with the client's small
    receive buffer, a page that stops reading backs up at once (loopback's buffers hold megabytes)."""
    ports: set[int] = set()
    found = live_connection.direct_writer

    def direct_writer(socket):
        writer = found(socket)
        if writer is not None and writer.transport.get_extra_info("peername")[1] in ports:
            writer.transport.get_extra_info("socket").setsockopt(sockets.SOL_SOCKET, sockets.SO_SNDBUF, 4096)
        return writer

    monkeypatch.setattr(live_connection, "direct_writer", direct_writer)
    return ports


async def open_page(url: str, client, room, *, slow: set[int] | None = None):
    """A page of client's person showing room, live from its newest number: what huddle.js does.
    `slow`: a page that stops reading when not read (small buffers both ends, a queue of one)."""
    host, port = url.split("/")[2].split(":")
    raw, max_queue = None, 16
    if slow is not None:
        raw, max_queue = sockets.socket(), 1
        raw.setsockopt(sockets.SOL_SOCKET, sockets.SO_RCVBUF, 4096)
        raw.connect((host, int(port)))
        slow.add(raw.getsockname()[1])
    page = await connect(url, sock=raw, max_queue=max_queue, max_size=2**22, additional_headers={
        "Cookie": f"huddle_auth={client.cookie()}", "Origin": f"http://{host}:{port}"})
    after = (await Conversation.get(id=room.id)).last_seq
    await page.send(json.dumps({"type": "hello", "presence": [], "conversation": room.id, "after": after}))
    while 'id="live-unread"' not in await page.recv():  # the answer: from now on it is live
        pass
    return page


async def publish(app, room, count: int, size: int = 0) -> list[int]:
    """`count` numbered changes of room, as the chat publishes them (the next numbers of its topic),
    each `size` bytes or so: n=<seq> marks each."""
    async with app.app_context():
        return await _publish(room, count, size)


async def _publish(room, count: int, size: int) -> list[int]:
    conversation = await Conversation.get(id=room.id)
    first = conversation.last_seq + 1
    numbers = list(range(first, first + count))
    await Conversation.filter(id=room.id).update(last_seq=numbers[-1])
    for seq in numbers:
        await runtime().broker.publish(Event("message.created", f"conversation:{room.id}",
                                             html=f"<p>n={seq} {'.' * size}</p>", seq=seq,
                                             data={"seq": seq}))
    return numbers


async def idle(app) -> None:
    """Until every socket's sender has written what it was given and let go (a condition polled
    while the loop runs the server, not a wait for time to pass)."""
    async with app.app_context():
        broker = runtime().broker

    def busy():
        for subscribers in broker._subscribers.values():
            for subscription in subscribers:
                if not subscription.queue.empty() or subscription.direct.__self__.lock.locked():
                    return True
        return False

    for _ in range(100_000):
        if not busy():
            return
        await asyncio.sleep(0)
    raise AssertionError("a socket's sender never went idle")


async def numbers_until(page, last: int) -> list[int]:
    got = []
    while not got or got[-1] < last:
        if found := SEQ.search(await page.recv()):
            got.append(int(found[1]))
    return got


async def test_one_frame_is_built_per_event_and_written_straight_to_every_page(app, hypercorn, counted, room,
                                                                              sign_in, alice):
    alices, bobs = await sign_in("alice"), await sign_in("bob")
    pages = [await open_page(hypercorn, alices, room), await open_page(hypercorn, alices, room),
             await open_page(hypercorn, bobs, room)]
    programs = [await open_program(hypercorn, name, room) for name in ("alice", "bob")]
    counted.update(built=0, written=0)
    async with app.app_context():
        message = await service.post(alice, room, "once")
    for page in pages:
        while f'id="message-{message.id}"' not in (frame := await page.recv()):
            pass
        assert "once" in frame
    for program in programs:
        while (frame := json.loads(await program.recv()))["action"] != "message.created":
            pass
        assert frame["data"]["id"] == message.id and frame["data"]["text"] == "once"
    # one frame for the pages, one for the programs, whoever gets them; no task woken per socket
    assert counted == {"built": 2, "written": 5}
    for socket in pages + programs:
        await socket.close()


async def open_program(url: str, name: str, room):
    """A program on the JSON websocket, logged in and subscribed to room from its newest number."""
    program = await connect(url.replace("/live", "/api/v1/ws"))
    await program.send(json.dumps({"action": "login", "data": {"username": name, "password": PASSWORD}}))
    assert "data" in json.loads(await program.recv())
    after = (await Conversation.get(id=room.id)).last_seq
    await program.send(json.dumps({"action": "subscribe", "data": {"conversations": {str(room.id): after}}}))
    while json.loads(await program.recv()).get("action") != "subscribe":
        pass
    return program


async def test_a_flood_to_a_backed_up_reader_takes_the_queue_and_keeps_order_and_exactness(app, hypercorn, counted,
                                                                                          room, sign_in, small_buffers):
    bobs = await sign_in("bob")
    slow = await open_page(hypercorn, bobs, room, slow=small_buffers)
    fast = await open_page(hypercorn, bobs, room)
    counted.update(written=0)
    numbers = await publish(app, room, 200, size=4000)  # ~800 KB: far past what the buffers hold
    assert await numbers_until(fast, numbers[-1]) == numbers
    assert await numbers_until(slow, numbers[-1]) == numbers  # no gap, no duplicate, in order
    # the fast page took all 200 straight; the slow one some, then the queue once it backed up
    assert 200 < counted["written"] < 400
    await idle(app)
    before = counted["written"]
    numbers = await publish(app, room, 3)  # drained: straight again
    assert await numbers_until(slow, numbers[-1]) == numbers
    assert await numbers_until(fast, numbers[-1]) == numbers
    assert counted["written"] == before + 6
    await slow.close()
    await fast.close()


async def test_a_reader_too_far_behind_is_closed_with_1013_and_the_others_get_everything(app, hypercorn, room,
                                                                                       sign_in, small_buffers):
    bobs = await sign_in("bob")
    slow = await open_page(hypercorn, bobs, room, slow=small_buffers)
    fast = await open_page(hypercorn, bobs, room)
    numbers = await publish(app, room, 600, size=2000)  # more than QUEUE_LIMIT behind
    assert await numbers_until(fast, numbers[-1]) == numbers  # never held up by the slow one
    got = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            if found := SEQ.search(await slow.recv()):
                got.append(int(found[1]))
    assert closed.value.rcvd.code == 1013  # try again later: it reconnects and catches up
    assert got == numbers[:len(got)] and len(got) < len(numbers)  # what it got: in order, no gap
    await fast.close()


async def test_pings_are_answered_and_a_close_comes_after_what_was_written(app, hypercorn, counted, room, sign_in,
                                                                            bob):
    bobs = await sign_in("bob")
    page, other = await open_page(hypercorn, bobs, room), await open_page(hypercorn, bobs, room)
    numbers = await publish(app, room, 50, size=500)
    reading = asyncio.create_task(numbers_until(page, numbers[-1]))
    pong = await page.ping()  # among frames written straight: the server still answers it
    await asyncio.wait_for(pong, 5)
    assert await reading == numbers
    await other.close()  # the client closes: nothing more is written to it
    counted.update(written=0)
    numbers = await publish(app, room, 5)
    async with app.app_context():
        await accounts.end_sessions(bob, "revoked")  # the server closes: after what it wrote
    assert await numbers_until(page, numbers[-1]) == numbers
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            assert not SEQ.search(await page.recv())  # the logout fragment, then nothing numbered
    assert closed.value.rcvd.code == 1000
    assert counted["written"] == 5  # to the page still open, none to the closed one
    counted.update(written=0)
    await publish(app, room, 5)  # to closed sockets: nothing is written, nothing fails
    assert counted["written"] == 0


async def test_without_the_direct_writer_every_event_takes_the_queue(app, hypercorn, counted, room, sign_in,
                                                                     monkeypatch):
    monkeypatch.setattr(live_connection, "direct_writer", lambda socket: None)  # an upgrade moved a hook
    bobs = await sign_in("bob")
    page = await open_page(hypercorn, bobs, room)
    counted.update(written=0)
    numbers = await publish(app, room, 20, size=100)
    assert await numbers_until(page, numbers[-1]) == numbers
    assert counted["written"] == 0
    await page.close()
