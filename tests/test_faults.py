"""Faults: the database goes away while the app runs, and comes back."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import asyncpg
import pytest

from app import create_app
from app.config import ROOT, Settings
from app.models import User
from tests.conftest import PASSWORD, Client, make_user
from tests.smtp import free_port

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


async def test_a_lost_database_gives_a_clear_503_writes_nothing_half_and_recovers_without_restart(tmp_path, pg_database):
    proxy = Proxy()
    await proxy.start()
    settings = Settings(
        data_dir=tmp_path, secret_key="k", base_url="http://localhost",
        database_url=f"postgres://postgres@127.0.0.1:{proxy.port}/{pg_database}",
    )
    app = create_app(settings)
    async with app.test_app():
        await make_user("admin", admin=True)
        await make_user("alice")
        client = Client(app)
        await client.login("alice")
        assert (await client.get("/account/sessions")).status_code == 200

        await proxy.stop()
        response = await client.get("/account/sessions")
        html = await response.get_data(as_text=True)
        assert response.status_code == 503 and "cannot reach its database" in html
        assert response.headers["Retry-After"]
        register = await Client(app).raw.post("/register", form={})  # (its CSRF check needs no database)
        assert register.status_code in {403, 503}

        await proxy.start()
        # Back by itself: the same running app serves again, and nothing half-written appeared.
        assert (await client.get("/account/sessions")).status_code == 200
        assert await User.all().count() == 2
        other = Client(app)
        response = await other.post(
            "/register", {"username": "carol", "email": "carol@example.com", "password": PASSWORD, "confirm_password": PASSWORD}
        )
        assert response.status_code == 303
    await proxy.stop()
