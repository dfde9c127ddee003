"""A scratch PostgreSQL database for one test (127.0.0.1:5432; CI starts the server)."""
from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import asyncpg

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
