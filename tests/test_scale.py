"""Scale-out and faults on real servers: two Huddle processes (two workers, as on two hosts)
sharing the real PostgreSQL and Redis; restarts; a worker killed mid-conversation.

Skipped where PostgreSQL or Redis is missing, except in CI (fails)."""
from __future__ import annotations

import asyncio
import json
import os

import pytest
import redis
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.helpers import PASSWORD
from tests.helpers.postgres import scratch_database
from tests.helpers.redis import prefix as redis_prefix
from tests.helpers.server import Server
from tests.helpers.services import missing

REDIS = os.environ.get("HUDDLE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except (OSError, redis.RedisError) as error:
        missing(f"Redis is not reachable at {REDIS}: {error}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two servers, one PostgreSQL database, one Redis: what `make cluster` runs."""
    redis_or_skip()
    database = scratch_database()
    url = next(database)
    env = {"HUDDLE_DATABASE_URL": url, "HUDDLE_BROKER_URL": REDIS, "HUDDLE_SECRET_KEY": "cluster secret",
           "HUDDLE_REDIS_PREFIX": redis_prefix(), "HUDDLE_PRESENCE_GRACE_SECONDS": "0",
           "HUDDLE_PRESENCE_TTL_SECONDS": "3", "HUDDLE_POSTS_PER_10_SECONDS": "1000"}
    a = Server(tmp_path_factory.mktemp("worker-a"), **env)
    b = Server(tmp_path_factory.mktemp("worker-b"), **env)
    a.create_user("ana", PASSWORD)
    a.create_user("bea", PASSWORD)
    yield a, b
    for server in (a, b):
        if server.process.poll() is None:
            server.stop()
    next(database, None)


async def program(server: Server, name: str):
    """A JSON-websocket program, logged in."""
    socket = await connect(server.ws_url("/api/v1/ws"))
    await socket.send(json.dumps({"action": "login", "data": {"username": name, "password": PASSWORD}}))
    await until_frame(socket, lambda f: f.get("action") == "login")
    return socket


async def until_frame(socket, test, timeout: float = 5.0) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await socket.recv())
            if test(frame):
                return frame


async def close_code(socket, timeout: float = 5.0) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(timeout):
            while True:
                await socket.recv()
    return closed.value.rcvd.code if closed.value.rcvd else 1006


def general(server: Server, token: str) -> int:
    return next(c["id"] for c in server.api("GET", "/api/v1/conversations", token)["data"] if c["name"] == "general")


async def test_a_message_posted_on_one_worker_reaches_pages_and_programs_on_the_other(cluster):
    a, b = cluster
    token = a.api_token("ana", PASSWORD)
    room = general(a, token)
    listener = await program(b, "bea")
    page = await connect(b.ws_url("/live"), additional_headers={"Cookie": b.login_cookie("bea", PASSWORD),
                                                                  "Origin": b.url})
    await page.send(json.dumps({"type": "hello", "presence": []}))
    try:
        sent = a.api("POST", f"/api/v1/conversations/{room}/messages", token, {"text": "across workers"})["data"]
        got = await until_frame(listener, lambda f: f.get("action") == "message.created")
        assert got["data"]["id"] == sent["id"] and got["data"]["text"] == "across workers"
        async with asyncio.timeout(5):
            while f'id="message-{sent["id"]}"' not in await page.recv():
                pass
    finally:
        await listener.close()
        await page.close()


async def test_a_program_reconnecting_to_the_other_worker_catches_up(cluster):
    a, b = cluster
    token = b.api_token("bea", PASSWORD)
    room = general(b, token)
    socket = await program(a, "ana")
    b.api("POST", f"/api/v1/conversations/{room}/messages", token, {"text": "seen"})
    seen = (await until_frame(socket, lambda f: f.get("action") == "message.created"))["data"]["version"]
    await socket.close()
    # While ana is away: a post, an edit and a post, all through worker b.
    first = b.api("POST", f"/api/v1/conversations/{room}/messages", token, {"text": "missed one"})["data"]
    b.api("PATCH", f"/api/v1/messages/{first['id']}", token, {"text": "missed one, edited"})
    b.api("POST", f"/api/v1/conversations/{room}/messages", token, {"text": "missed two"})
    socket = await program(b, "ana")  # back, on the other worker
    try:
        await socket.send(json.dumps({"action": "subscribe", "data": {"conversations": {str(room): seen}}}))
        frames = []
        while (frame := json.loads(await socket.recv()))["action"] != "subscribe":
            if frame["action"].startswith("message."):
                frames.append((frame["action"], frame["data"]["text"]))
        assert frames == [("message.created", "missed one, edited"), ("message.created", "missed two")]
    finally:
        await socket.close()


async def test_presence_is_shared_across_workers(cluster):
    a, b = cluster
    watcher = await program(b, "bea")
    ana_id = b.api("GET", "/api/v1/users/ana", b.api_token("bea", PASSWORD))["data"]["id"]
    try:
        ana = await program(a, "ana")
        got = await until_frame(watcher, lambda f: f.get("action") == "presence" and ana_id in f["data"]["online"])
        assert got
        assert b.api("GET", "/api/v1/users/ana", b.api_token("bea", PASSWORD))["data"]["online"] is True
        await ana.close()
        await until_frame(watcher, lambda f: f.get("action") == "presence" and ana_id in f["data"]["offline"])
    finally:
        await watcher.close()


async def test_login_limits_are_shared_across_workers(cluster):
    a, b = cluster
    import urllib.error

    for server in (a, b, a, b, a):  # 5 failures, spread over both workers
        with pytest.raises(urllib.error.HTTPError) as failed:
            server.api("POST", "/api/v1/login", body={"username": "nobody-x", "password": "wrong password!"})
        assert failed.value.code == 422
    with pytest.raises(urllib.error.HTTPError) as limited:
        b.api("POST", "/api/v1/login", body={"username": "nobody-x", "password": "wrong password!"})
    assert limited.value.code == 429 and int(limited.value.headers["Retry-After"]) > 0


async def test_sigterm_closes_live_sockets_at_once_with_1012(tmp_path):
    server = Server(tmp_path)
    server.create_user("cyd", PASSWORD)
    page = await connect(server.ws_url("/live"), additional_headers={"Cookie": server.login_cookie("cyd", PASSWORD),
                                                                       "Origin": server.url})
    await page.send(json.dumps({"type": "hello", "presence": []}))
    await page.recv()
    bot = await program(server, "cyd")
    server.process.terminate()  # SIGTERM to Hypercorn's master, as systemd or docker stop does
    try:
        assert await close_code(page) == 1012
        assert await close_code(bot) == 1012
    finally:
        server.process.wait(timeout=15)
        server.log.close()


async def test_a_worker_killed_mid_conversation_loses_nothing(cluster):
    """ana follows #general on worker a while bea posts through worker b; a is killed -9; ana
    reconnects to b with the last number she saw and gets every message once, in order."""
    a, b = cluster
    token = b.api_token("bea", PASSWORD)
    room = general(b, token)
    socket = await program(a, "ana")
    await socket.send(json.dumps({"action": "subscribe", "data": {"conversations": {str(room): 0}}}))
    await until_frame(socket, lambda f: f.get("action") == "subscribe")
    seen: dict[int, str] = {}
    last = 0

    async def read_until_dropped():
        nonlocal last
        try:
            while True:
                frame = json.loads(await socket.recv())
                if frame.get("action") == "message.created":
                    seen[frame["data"]["id"]] = frame["data"]["text"]
                    last = max(last, frame["data"]["version"])
        except ConnectionClosed:
            pass

    reader = asyncio.create_task(read_until_dropped())
    posted = []
    for n in range(30):
        posted.append(b.api("POST", f"/api/v1/conversations/{room}/messages", token, {"text": f"n{n}"})["data"])
        if n == 10:
            a.kill()
        await asyncio.sleep(0)
    await asyncio.wait_for(reader, 10)
    again = await program(b, "ana")
    try:
        await again.send(json.dumps({"action": "subscribe", "data": {"conversations": {str(room): last}}}))
        replayed = []
        while (frame := json.loads(await again.recv()))["action"] != "subscribe":
            if frame["action"] == "message.created":
                replayed.append(frame["data"]["id"])
        assert not set(replayed) & set(seen), "nothing twice"
        mine = [p["id"] for p in posted]
        got = [i for i in [*sorted(seen), *replayed] if i in mine]
        assert got == mine, "nothing lost, in order"
    finally:
        await again.close()


async def test_a_killed_workers_users_go_offline_by_themselves(cluster):
    a, b = cluster  # a was killed by the test before (or is killed here)
    if a.process.poll() is None:
        a.kill()
    a.start()  # a fresh worker a
    watcher = await program(b, "bea")
    token = b.api_token("bea", PASSWORD)
    ana_id = b.api("GET", "/api/v1/users/ana", token)["data"]["id"]
    async with asyncio.timeout(15):  # ana's claim from the worker killed before expires first
        while b.api("GET", "/api/v1/users/ana", token)["data"]["online"]:  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.2)
    try:
        ana = await program(a, "ana")
        await until_frame(watcher, lambda f: f.get("action") == "presence" and ana_id in f["data"]["online"])
        a.kill()  # no goodbye: only the expiry of its claim can tell
        got = await until_frame(watcher, lambda f: f.get("action") == "presence" and ana_id in f["data"]["offline"],
                                timeout=15)  # TTL is 3 s here (60 s by default), swept every TTL/4
        assert got
        del ana
    finally:
        await watcher.close()
