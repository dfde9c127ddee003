"""Faults: the database goes away while the app runs, and comes back."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import asyncpg
import pytest

from app.config import ROOT
from tests.helpers import PASSWORD
from tests.helpers.server import Server
from tests.helpers.smtp import free_port

PG = os.environ.get("HUDDLE_TEST_PG", "postgres://postgres@127.0.0.1:5432/postgres")


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
async def pg_database():
    name = f"huddle_fault_{uuid.uuid4().hex[:10]}"
    try:
        conn = await asyncpg.connect(PG)
    except OSError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = PG.rsplit("/", 1)[0] + f"/{name}"
    env = dict(os.environ, HUDDLE_DATABASE_URL=url)
    await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "app", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    yield name
    conn = await asyncpg.connect(PG)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


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
    tmp_path, pg_database
):
    proxy = Proxy()
    await proxy.start()
    url = f"postgres://postgres@127.0.0.1:{proxy.port}/{pg_database}"
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
        conn = await asyncpg.connect(PG.rsplit("/", 1)[0] + f"/{pg_database}")
        assert await conn.fetchval("SELECT count(*) FROM users WHERE username = 'carol'") == 0
        await conn.close()
    finally:
        await asyncio.to_thread(server.stop)
        await proxy.stop()
