"""A scratch PostgreSQL database for one test (127.0.0.1:5432; CI starts the server), the app on
it (`pg_site`), and a test's coroutine run in a process of its own (`in_child` / `child_main`)."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from quart import Quart

from app.config import ROOT
from tests.helpers import ARGON2_MEMORY_KIB
from tests.helpers.services import missing

PG_ADMIN = os.environ.get("HUDDLE_TEST_PG", "postgres://postgres@127.0.0.1:5432/postgres")


def admin_sql(sql: str) -> None:
    """One statement as the PostgreSQL administrator (CREATE/DROP DATABASE), on its own connection."""
    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def database_url(name: str) -> str:
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"


def scratch_database() -> Iterator[str]:
    """Made fresh, dropped after; skipped where PostgreSQL is missing, unless it is required
    (tests/helpers/services.py). The name is unique: xdist workers and other runs never share one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"huddle_test_{worker}_{uuid.uuid4().hex[:10]}"
    try:
        admin_sql(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as error:
        missing(f"PostgreSQL is not reachable at {PG_ADMIN}: {error}")
    try:
        yield database_url(name)
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def pg_site(url: str, data_dir: Path | str, **settings) -> AsyncIterator[Quart]:
    """The app on the PostgreSQL database at url, migrated first, running (test_app, its workers
    started) inside an app context; settings override the defaults below. Tortoise keeps each
    table's INSERT per connection name, built for one dialect: the cache is cleared before and after,
    so the SQLite tests of the same process build their own again."""
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from app import create_app
    from app.__main__ import migrate
    from app.config import Settings

    chosen = Settings(**{"data_dir": Path(data_dir), "database_url": url, "secret_key": "pg",
                         "base_url": "http://localhost", "argon2_memory_kib": ARGON2_MEMORY_KIB,
                         "registration": "open", **settings})
    await migrate(chosen)
    EXECUTOR_CACHE.clear()
    try:
        app = create_app(chosen)
        async with app.test_app(), app.app_context():
            yield app
    finally:
        EXECUTOR_CACHE.clear()


def in_child(module: str, *args: str) -> dict:
    """`python -m module ARGS...` in a process of its own (the ORM compiles its SQL for the first
    database a process opens): the JSON its last line printed. Its stderr is the failure's message."""
    child = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert child.returncode == 0, child.stderr
    return json.loads(child.stdout.strip().splitlines()[-1])


def child_main(run: Callable[..., Awaitable[dict]]) -> None:
    """The child's side of in_child (under a test module's `if __name__ == "__main__":`): run with
    the command line's arguments, its result printed as one line of JSON."""
    print(json.dumps(asyncio.run(run(*sys.argv[1:]))))
