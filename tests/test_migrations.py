"""Every migration applies to fresh SQLite and PostgreSQL databases, and the schema it builds is
the schema the models describe (so a model change without a migration fails here)."""
from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import uuid

import asyncpg
import pytest

from app.config import ROOT

PG_ADMIN = os.environ.get("HUDDLE_TEST_PG", "postgres://postgres@127.0.0.1:5432/postgres")

GENERATE = """
import asyncio, sys
from tortoise import Tortoise
from app.config import tortoise_config
async def main():
    await Tortoise.init(config=tortoise_config(sys.argv[1]))
    await Tortoise.generate_schemas(safe=False)
    await Tortoise.close_connections()
asyncio.run(main())
"""


def run(*args: str, url: str) -> None:
    env = dict(os.environ, HUDDLE_DATABASE_URL=url)
    subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True, capture_output=True)


def migrate(url: str) -> None:
    run("-m", "app", "migrate", url=url)


def generate(url: str) -> None:
    run("-c", GENERATE, url, url=url)


def sqlite_schema(path) -> dict:
    db = sqlite3.connect(path)
    query = "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
    tables = [r[0] for r in db.execute(query)]
    schema = {}
    for table in tables:
        columns = sorted((r[1], r[2].upper(), r[3], r[5]) for r in db.execute(f'PRAGMA table_info("{table}")'))
        indexes = sorted(
            (r[2], tuple(c[2] for c in db.execute(f'PRAGMA index_info("{r[1]}")')))
            for r in db.execute(f'PRAGMA index_list("{table}")')
        )
        fks = sorted((r[2], r[3], r[4], r[6]) for r in db.execute(f'PRAGMA foreign_key_list("{table}")'))
        schema[table] = {"columns": columns, "indexes": indexes, "fks": fks}
    db.close()
    return schema


async def pg_schema(url: str) -> dict:
    conn = await asyncpg.connect(url)
    rows = await conn.fetch(
        "SELECT table_name, column_name, data_type, is_nullable, character_maximum_length "
        "FROM information_schema.columns WHERE table_schema='public'"
    )
    indexes = await conn.fetch("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname='public'")
    fks = await conn.fetch(
        "SELECT conrelid::regclass::text AS t, pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE contype='f'"
    )
    await conn.close()
    schema: dict = {}
    for r in rows:
        schema.setdefault(r["table_name"], {"columns": [], "indexes": [], "fks": []})["columns"].append(
            (r["column_name"], r["data_type"], r["is_nullable"], r["character_maximum_length"])
        )
    for r in indexes:
        schema[r["tablename"]]["indexes"].append(r["indexdef"])
    for r in fks:
        schema[r["t"].strip('"')]["fks"].append(r["d"])
    for table in schema.values():
        for part in table.values():
            part.sort(key=str)
    return schema


def test_migrations_build_the_model_schema_on_sqlite(tmp_path):
    migrate(f"sqlite://{tmp_path / 'migrated.db'}")
    generate(f"sqlite://{tmp_path / 'generated.db'}")
    migrated, generated = sqlite_schema(tmp_path / "migrated.db"), sqlite_schema(tmp_path / "generated.db")
    assert {"users", "user_sessions", "aerich"} <= set(migrated)
    assert migrated == generated


def test_migrating_twice_changes_nothing(tmp_path):
    url = f"sqlite://{tmp_path / 'twice.db'}"
    migrate(url)
    first = sqlite_schema(tmp_path / "twice.db")
    migrate(url)
    assert sqlite_schema(tmp_path / "twice.db") == first


@pytest.fixture
def pg_databases():
    names = [f"huddle_test_{uuid.uuid4().hex[:10]}" for _ in range(2)]

    async def admin(sql_template: str):
        conn = await asyncpg.connect(PG_ADMIN)
        for name in names:
            await conn.execute(sql_template.format(name))
        await conn.close()

    try:
        asyncio.run(admin('CREATE DATABASE "{}"'))
    except (OSError, asyncpg.PostgresError) as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN}: {error}")
    base = PG_ADMIN.rsplit("/", 1)[0]
    yield [f"{base}/{name}" for name in names]
    asyncio.run(admin('DROP DATABASE IF EXISTS "{}" WITH (FORCE)'))


def test_migrations_build_the_model_schema_on_postgresql(pg_databases):
    migrated_url, generated_url = pg_databases
    migrate(migrated_url)
    generate(generated_url)
    migrated, generated = asyncio.run(pg_schema(migrated_url)), asyncio.run(pg_schema(generated_url))
    assert {"users", "user_sessions", "aerich"} <= set(migrated)
    assert migrated == generated
