"""Faults: the database goes away while the app runs, and comes back."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import urllib.parse

import asyncpg
import pytest

from app.config import ROOT
from tests.helpers import PASSWORD
from tests.helpers.ports import free_port
from tests.helpers.redis import PrivateRedis
from tests.helpers.server import Server
from tests.helpers.services import missing


class Proxy:
    """A TCP relay in front of PostgreSQL that we can pull the plug on."""

    def __init__(self, target_port: int = 5432) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def stop(self) -> None:
        """The database is gone: no new connections, and the open ones drop."""
        self.server.close()
        await self.server.wait_closed()
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def _relay(self, reader, writer) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, upstream_writer}

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


@pytest.fixture
def migrated_pg_database(pg_database) -> str:
    """A scratch PostgreSQL database (conftest's pg_database), migrated; its URL."""
    env = dict(os.environ, HUDDLE_DATABASE_URL=pg_database)
    subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    return pg_database


class Browser:
    """Plain HTTP with a cookie jar, like a browser without JavaScript (blocking: run in a thread)."""

    def __init__(self, server) -> None:
        import http.cookiejar
        import urllib.request

        self.server = server
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, path: str, form: dict | None = None) -> tuple[int, str, dict]:
        import urllib.error
        import urllib.parse
        import urllib.request

        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.server.url + path, data=data, headers={"Origin": self.server.url})
        try:
            with self.opener.open(request) as response:
                return response.status, response.read().decode(), {k.lower(): v for k, v in response.headers.items()}
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), {k.lower(): v for k, v in error.headers.items()}

    def token(self, path: str = "/login") -> str:
        import re

        return re.search(r'name="csrf_token" value="([^"]+)"', self.request(path)[1]).group(1)


async def test_a_lost_database_gives_a_clear_503_writes_nothing_half_and_recovers_without_restart(
    tmp_path, migrated_pg_database
):
    database = urllib.parse.urlsplit(migrated_pg_database)
    proxy = Proxy(database.port or 5432)
    await proxy.start()
    url = database._replace(netloc=f"{database.username}@127.0.0.1:{proxy.port}").geturl()
    # Blocking set-up runs in threads: the relay lives on this test's event loop.
    server = await asyncio.to_thread(Server, tmp_path, HUDDLE_DATABASE_URL=url)
    try:
        await asyncio.to_thread(server.create_user, "alice", PASSWORD)
        alice = Browser(server)
        token = await asyncio.to_thread(alice.token)
        login = {"username": "alice", "password": PASSWORD, "csrf_token": token}
        status, _, _ = await asyncio.to_thread(alice.request, "/login", login)
        assert status == 200  # followed the redirect to the front page
        assert (await asyncio.to_thread(alice.request, "/account/sessions"))[0] == 200

        visitor = Browser(server)
        register_token = await asyncio.to_thread(visitor.token, "/register")
        await proxy.stop()

        status, html, headers = await asyncio.to_thread(alice.request, "/account/sessions")
        assert status == 503 and "cannot reach its database" in html and headers.get("retry-after")
        assert 'class="site-header"' in html and "Traceback" not in html
        carol = {"username": "carol", "email": "carol@example.com", "password": PASSWORD,
                 "confirm_password": PASSWORD, "csrf_token": register_token}
        assert (await asyncio.to_thread(visitor.request, "/register", carol))[0] == 503

        await proxy.start()
        # The same running server serves again, and the failed registration left nothing behind.
        assert (await asyncio.to_thread(alice.request, "/account/sessions"))[0] == 200
        conn = await asyncpg.connect(migrated_pg_database)
        assert await conn.fetchval("SELECT count(*) FROM users WHERE username = 'carol'") == 0
        await conn.close()
    finally:
        await asyncio.to_thread(server.stop)
        await proxy.stop()


# --- Redis restarted --------------------------------------------------------------------------------

async def test_a_redis_restart_loses_nothing_and_writes_keep_working(tmp_path):
    import json
    import shutil

    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    if shutil.which("redis-server") is None:
        missing("no redis-server (apt-get install redis-server)")
    private = PrivateRedis(tmp_path)
    private.start()
    (tmp_path / "site").mkdir()
    server = Server(tmp_path / "site", HUDDLE_BROKER_URL=f"redis://127.0.0.1:{private.port}/0")
    try:
        server.create_user("rea", PASSWORD)
        token = server.api_token("rea", PASSWORD)
        room = server.api("GET", "/api/v1/conversations", token)["data"][0]["id"]

        async def follow(after: int):
            socket = await connect(server.ws_url("/api/v1/ws"))
            await socket.send(json.dumps({"action": "auth", "data": {"token": token}}))
            await socket.send(json.dumps({"action": "subscribe", "data": {"conversations": {str(room): after}}}))
            got = []
            while (frame := json.loads(await socket.recv()))["action"] != "subscribe":
                if frame["action"] == "message.created":
                    got.append(frame["data"]["text"])
            return socket, got

        socket, _ = await follow(0)
        first = server.api("POST", f"/api/v1/conversations/{room}/messages", token, {"text": "before"})["data"]
        private.stop()
        # Redis is down: the write still succeeds (it is in the database), only the push waits.
        during = server.api("POST", f"/api/v1/conversations/{room}/messages", token, {"text": "during"})["data"]
        assert during["seq"] == first["seq"] + 1
        private.start()
        code = None
        try:
            async with asyncio.timeout(15):
                while True:
                    await socket.recv()
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else 1006
        assert code == 1012  # the broker is back: "reconnect", and the program catches up
        socket, replayed = await follow(first["version"])
        assert replayed == ["during"]
        after = server.api("POST", f"/api/v1/conversations/{room}/messages", token, {"text": "after"})["data"]
        async with asyncio.timeout(5):
            while json.loads(await socket.recv()).get("data", {}).get("id") != after["id"]:
                pass
        await socket.close()
    finally:
        server.stop()
        private.stop()


# --- many writers on SQLite ----------------------------------------------------------------------------

def test_many_concurrent_writers_on_sqlite_each_stored_once_and_none_refused(tmp_path):
    """40 programs post at once through the real server on SQLite: no "database is locked"
    reaches anyone, every acknowledged message is stored once, numbered without a gap."""
    import sqlite3
    from concurrent.futures import ThreadPoolExecutor

    server = Server(tmp_path, HUDDLE_POSTS_PER_10_SECONDS="1000")
    try:
        names = [f"writer{n}" for n in range(8)]
        for name in names:
            server.create_user(name, PASSWORD)
        tokens = [server.api_token(name, PASSWORD) for name in names]
        room = server.api("GET", "/api/v1/conversations", tokens[0])["data"][0]["id"]

        def post(n: int) -> dict:
            body = {"text": f"message {n}", "client_id": f"c{n}"}
            return server.api("POST", f"/api/v1/conversations/{room}/messages", tokens[n % len(tokens)], body)["data"]

        with ThreadPoolExecutor(max_workers=40) as pool:
            acknowledged = list(pool.map(post, range(200)))
        with ThreadPoolExecutor(max_workers=40) as pool:  # the same posts again: retries, stored once
            again = list(pool.map(post, range(200)))
        assert [m["id"] for m in again] == [m["id"] for m in acknowledged]
        rows = sqlite3.connect(tmp_path / "huddle.db").execute(
            "SELECT body, seq FROM messages WHERE conversation_id = ? ORDER BY seq", (room,)).fetchall()
        assert sorted(body for body, _ in rows) == sorted(f"message {n}" for n in range(200))
        assert [seq for _, seq in rows] == list(range(1, 201))
        assert "database is locked" not in (tmp_path / "server.log").read_text()
    finally:
        server.stop()
