"""Every migration applies to fresh SQLite and PostgreSQL databases, and the schema it builds is
the schema the models describe (so a model change without a migration fails here)."""
from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys

import asyncpg
import pytest

from app.config import ROOT
from tests.helpers.postgres import scratch_database

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


# What no Tortoise model can describe, made by migrations 11 and 12 only (app/models/search.py):
# SQLite's FTS5 table over message_search (and FTS5's own tables behind it), PostgreSQL's stored
# tsvector column and its GIN index.
SEARCH_ONLY_TABLES = ("message_fts",)
SEARCH_ONLY_INDEX = "CREATE INDEX message_search_vector ON public.message_search USING gin"
SEARCH_ONLY_COLUMN = ("message_search", "vector")


def sqlite_schema(path) -> dict:
    db = sqlite3.connect(path)
    query = "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' " + "".join(
        f"AND name NOT LIKE '{table}%' " for table in SEARCH_ONLY_TABLES)
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
        if (r["table_name"], r["column_name"]) == SEARCH_ONLY_COLUMN:
            continue
        schema.setdefault(r["table_name"], {"columns": [], "indexes": [], "fks": []})["columns"].append(
            (r["column_name"], r["data_type"], r["is_nullable"], r["character_maximum_length"])
        )
    for r in indexes:
        if not r["indexdef"].startswith(SEARCH_ONLY_INDEX):
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
    """Two scratch databases (tests/helpers/postgres.py: skipped without PostgreSQL unless required)."""
    database = contextlib.contextmanager(scratch_database)
    with database() as migrated, database() as generated:
        yield [migrated, generated]


def test_migrations_build_the_model_schema_on_postgresql(pg_databases):
    migrated_url, generated_url = pg_databases
    migrate(migrated_url)
    generate(generated_url)
    migrated, generated = asyncio.run(pg_schema(migrated_url)), asyncio.run(pg_schema(generated_url))
    assert {"users", "user_sessions", "aerich"} <= set(migrated)
    assert migrated == generated


# --- migration 6: audit entries written as English become parameters ---------------------------

AERICH = """
import asyncio, shutil, sys, tempfile
from pathlib import Path
from aerich import Command
from app.config import ROOT, tortoise_config
async def main(url, step):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "models").mkdir()
        for path in (ROOT / "migrations" / "models").glob("*.py"):
            if step.startswith("down") or int(path.name.split("_", 1)[0]) <= int(step):
                shutil.copy(path, Path(tmp) / "models" / path.name)
        command = Command(tortoise_config(url), app="models", location=tmp)
        async with command:
            await command.init()
            if step.startswith("down"):  # "down3": the newest three, newest first
                for _ in range(int(step[4:])):
                    await command.downgrade(-1, delete=False)
            else:
                await command.upgrade(run_in_transaction=True)
asyncio.run(main(sys.argv[1], sys.argv[2]))
"""
NEWEST = max(int(path.name.split("_", 1)[0]) for path in (ROOT / "migrations" / "models").glob("*.py"))

# (actor, action, target, detail as the app once wrote it, its sentence after the migration,
#  its detail after migrating down again when that is not the same).
OLD_ENTRIES = [
    ("", "user.created", "hal", "from the command line as administrator",
     "The command line created an administrator account for hal.", None),
    ("", "user.created", "ivy", "from the command line", "The command line created an account for ivy.", None),
    ("", "admin.granted", "alice", "from the command line", "The command line made alice an administrator.", None),
    ("erin", "user.registered", "erin", "admin (first account)",
     "erin created their account and, as the first one, became an administrator.", None),
    ("theo", "user.registered", "theo", "invited by maya", "theo created their account, invited by maya.", None),
    ("admin", "user.edited", "alice", "username: alice → Alicia; email: a@example.com → b@example.com",
     "admin edited alice: username: alice → Alicia; email: a@example.com → b@example.com.", None),
    ("maya", "user.deleted", "theo", "2 session(s) ended, 1 feedback item(s) deleted",
     "maya deleted theo's account: 2 sessions ended, 1 feedback item deleted.",
     "2 sessions ended, 1 feedback item deleted"),
    ("maya", "user.deleted", "tom", "1 session(s) ended", "maya deleted tom's account: 1 session ended.",
     "1 session ended"),
    ("gina", "sessions.revoked", "gina", "one session (Firefox on Linux)",
     "gina ended one of their sessions (Firefox on Linux).", None),
    ("gina", "sessions.revoked", "gina", "3 other session(s)", "gina ended 3 other sessions.", "3 other sessions"),
    ("maya", "room.created", "", "#leads (closed)", "maya created the closed room #leads.", None),
    ("maya", "room.member_added", "theo", "#leads", "maya added theo to #leads.", None),
    ("maya", "room.member_removed", "theo", "#leads", "maya removed theo from #leads.", None),
    ("maya", "message.deleted", "", "a message by theo", "maya deleted a message by theo.", None),
    ("theo", "password.reset", "theo", "with an emailed link", "theo reset their password through an emailed link.",
     None),
    ("theo", "password.changed", "theo", "", "theo changed their own password.", None),
    ("maya", "feedback.edited", "theo", "“Hello; there”", "maya edited feedback by theo: “Hello; there”.", None),
    ("maya", "invitation.created", "", "for one person, 3 days, mailed to x@example.com",
     "maya created an invitation link for one person, valid 3 days, mailed to x@example.com.", None),
    ("maya", "invitation.created", "", "for several people, 1 day",
     "maya created an invitation link for several people, valid 1 day.", None),
    ("maya", "invitation.revoked", "", "made by maya", "maya revoked an invitation link they had made.", None),
    # Text nobody can read as parameters stays, shown as it was written.
    ("maya", "user.edited", "theo", "change 7", "maya edited theo: change 7.", None),
    ("maya", "widget.frobbed", "theo", "with care", "maya frobbed a widget, concerning theo: with care.", None),
]


def aerich(url: str, step: str) -> None:
    """Migrate up to migration number `step` ("5"), or back to where it was before migration
    `down`: step "down6" undoes every migration from 6 on, newest first."""
    if step.startswith("down"):
        step = f"down{NEWEST - int(step[4:]) + 1}"
    run("-c", AERICH, url, step, url=url)


def sentences(rows: list[tuple[str, str, str, dict, str]]) -> list[str]:
    from types import SimpleNamespace

    from app.admin.audit_log import sentence

    return [sentence(SimpleNamespace(actor_name=actor, action=action, target_name=target, params=params, detail=detail))
            for actor, action, target, params, detail in rows]


def check_old_entries_migrate(url: str, insert, select) -> None:
    """Migrate to 5, write entries as the app once did, migrate to 6: they read as the same
    sentences, from parameters; migrate down: the old text is back."""
    aerich(url, "5")
    insert([(actor, action, target, detail) for actor, action, target, detail, _, _ in OLD_ENTRIES])
    migrate(url)
    rows = select(with_params=True)
    assert sentences(rows) == [entry[4] for entry in OLD_ENTRIES]
    unread = {entry[3] for entry in OLD_ENTRIES[-2:]}
    assert [detail for *_, detail in rows] == [detail if detail in unread else "" for *_, detail, _, _ in OLD_ENTRIES]
    assert rows[5][3] == {"changes": [["username", "alice", "Alicia"], ["email", "a@example.com", "b@example.com"]]}
    aerich(url, "down6")
    restored = [detail for *_, detail in select(with_params=False)]
    assert restored == [after or detail for *_, detail, _, after in OLD_ENTRIES]


def test_old_audit_entries_become_parameters_and_back_on_sqlite(tmp_path):
    path = tmp_path / "old.db"

    def insert(rows):
        db = sqlite3.connect(path)
        db.executemany("INSERT INTO audit_events (created_at, actor_name, action, target_name, detail) "
                       "VALUES ('2026-11-30 12:00:00', ?, ?, ?, ?)", rows)
        db.commit()
        db.close()

    def select(with_params: bool):
        import json

        db = sqlite3.connect(path)
        columns = "actor_name, action, target_name, " + ("params, " if with_params else "'{}', ") + "detail"
        rows = db.execute(f"SELECT {columns} FROM audit_events ORDER BY id").fetchall()
        db.close()
        return [(a, b, c, json.loads(p), d) for a, b, c, p, d in rows]

    check_old_entries_migrate(f"sqlite://{path}", insert, select)


def test_old_audit_entries_become_parameters_and_back_on_postgresql(pg_databases):
    import json

    url = pg_databases[0]

    async def insert_rows(rows):
        conn = await asyncpg.connect(url)
        await conn.executemany("INSERT INTO audit_events (created_at, actor_name, action, target_name, detail) "
                               "VALUES (now(), $1, $2, $3, $4)", rows)
        await conn.close()

    async def select_rows(with_params: bool):
        conn = await asyncpg.connect(url)
        columns = "actor_name, action, target_name, " + ("params::text, " if with_params else "'{}', ") + "detail"
        rows = await conn.fetch(f"SELECT {columns} FROM audit_events ORDER BY id")
        await conn.close()
        return [(a, b, c, json.loads(p), d) for a, b, c, p, d in rows]

    check_old_entries_migrate(url, lambda rows: asyncio.run(insert_rows(rows)),
                              lambda with_params: asyncio.run(select_rows(with_params)))


# --- migration 7: names get their look-alike skeletons ----------------------------------------------

# Names as earlier versions let them be made, oldest first: a name that looks like an older one
# keeps NULL in the column where it shares the older one's skeleton, and both stay.
OLD_USERS = [("alice", "alice"), ("аӏісе", "аӏісе"), ("ALİCE", "ali̇ce"), ("aIice", "aiice"), ("bob", "bob")]
OLD_ROOMS = [("general", "general"), ("ѕесrеt", "ѕесrеt"), ("secret", "secret"), ("generaI", "generai")]
AFTER_USERS = [("alice", "alice", "alice"), ("аӏісе", None, None), ("ALİCE", None, "ALl\u0307CE"),
               ("aIice", "aiice", None), ("bob", "bob", "bob")]
AFTER_ROOMS = [("general", "general", "general"), ("ѕесrеt", "secret", "secret"), ("secret", None, None),
               ("generaI", "generai", None), (None, None, None)]


def check_names_get_skeletons(url: str, execute, select) -> None:
    """Migrate to 6, make look-alike names as the app once allowed, migrate: each name has its
    skeletons, NULL where an older one has the same; the unique indexes hold; migrate down."""
    aerich(url, "6")
    for n, (name, key) in enumerate(OLD_USERS):
        execute("INSERT INTO users (username, username_key, email, password_hash, is_admin, created_at) "
                "VALUES (?, ?, ?, 'x', FALSE, CURRENT_TIMESTAMP)", [name, key, f"u{n}@example.com"])
    for name, key in OLD_ROOMS:
        execute("INSERT INTO conversations (kind, name, name_key, topic, is_open, created_at, last_seq) "
                "VALUES ('room', ?, ?, '', TRUE, CURRENT_TIMESTAMP, 0)", [name, key])
    execute("INSERT INTO conversations (kind, direct_key, topic, is_open, created_at, last_seq) "
            "VALUES ('direct', '1,5', '', TRUE, CURRENT_TIMESTAMP, 0)", [])
    migrate(url)
    assert select("SELECT username, username_skeleton, username_shown_skeleton FROM users ORDER BY id") == AFTER_USERS
    assert select("SELECT name, name_skeleton, name_shown_skeleton FROM conversations ORDER BY id") == AFTER_ROOMS
    with pytest.raises(Exception, match="(?i)unique"):  # a second row with alice's skeleton
        execute("INSERT INTO users (username, username_key, username_skeleton, email, password_hash, is_admin, "
                "created_at) VALUES ('x', 'x', 'alice', 'x@example.com', 'x', FALSE, CURRENT_TIMESTAMP)", [])
    aerich(url, "down7")
    assert "username_skeleton" not in str(select("SELECT * FROM users ORDER BY id LIMIT 1", keys=True))


def on_sqlite(path):
    """execute(query, args) and select(query, keys=False) on a SQLite file, for the data checks."""
    def execute(query, args):
        db = sqlite3.connect(path)
        try:
            db.execute(query, args)
            db.commit()
        finally:
            db.close()

    def select(query, keys=False):
        db = sqlite3.connect(path)
        cursor = db.execute(query)
        rows = [tuple(d[0] for d in cursor.description)] if keys else cursor.fetchall()
        db.close()
        return rows

    return execute, select


def on_postgresql(url):
    """The same on a PostgreSQL database (`?` placeholders numbered for asyncpg)."""
    def numbered(query):
        first, *rest = query.split("?")
        return first + "".join(f"${n}{part}" for n, part in enumerate(rest, 1))

    async def on_database(work):
        conn = await asyncpg.connect(url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    def execute(query, args):
        asyncio.run(on_database(lambda conn: conn.execute(numbered(query), *args)))

    def select(query, keys=False):
        rows = asyncio.run(on_database(lambda conn: conn.fetch(query)))
        return [tuple(rows[0].keys())] if keys and rows else [tuple(row.values()) for row in rows]

    return execute, select


def test_names_get_their_skeletons_and_back_on_sqlite(tmp_path):
    path = tmp_path / "names.db"
    check_names_get_skeletons(f"sqlite://{path}", *on_sqlite(path))


def test_names_get_their_skeletons_and_back_on_postgresql(pg_databases):
    check_names_get_skeletons(pg_databases[0], *on_postgresql(pg_databases[0]))


# --- migration 11: the search index, with every message there is -----------------------------------

def check_messages_get_indexed(url: str, execute, select, search_sql: str) -> None:
    """Migrate to 10, write messages as the app did before search, migrate: each message that is
    not deleted is in the index and found through the database's own index; migrate down."""
    aerich(url, "10")
    execute("INSERT INTO users (username, username_key, email, password_hash, is_admin, created_at) "
            "VALUES ('alice', 'alice', 'a@example.com', 'x', FALSE, CURRENT_TIMESTAMP)", [])
    execute("INSERT INTO conversations (kind, name, name_key, topic, is_open, created_at, last_seq, header_seq) "
            "VALUES ('room', 'general', 'general', '', TRUE, CURRENT_TIMESTAMP, 3, 0)", [])
    for seq, body, deleted in [(1, "the café is open", False), (2, "sess.opts in 東京", False),
                               (3, "a deleted café", True)]:
        execute("INSERT INTO messages (conversation_id, author_id, author_name, body, seq, version_seq, created_at, "
                f"deleted_at) VALUES (1, 1, 'alice', ?, ?, ?, CURRENT_TIMESTAMP, "
                f"{'CURRENT_TIMESTAMP' if deleted else 'NULL'})", [body, seq, seq])
    migrate(url)
    from app.models import search

    assert select("SELECT message_id, terms FROM message_search ORDER BY message_id") == [
        (1, search.terms("the café is open")), (2, search.terms("sess.opts in 東京"))]
    assert select(search_sql.replace("TERM", search.encode("cafe"))) == [(1,)]
    assert select(search_sql.replace("TERM", search.encode("東京"))) == [(2,)]
    aerich(url, "down11")
    with pytest.raises(Exception, match="message_search"):
        select("SELECT * FROM message_search")


def test_existing_messages_are_indexed_on_sqlite(tmp_path):
    path = tmp_path / "search.db"
    check_messages_get_indexed(f"sqlite://{path}", *on_sqlite(path),
                               "SELECT rowid FROM message_fts WHERE message_fts MATCH '\"TERM\"'")


def test_existing_messages_are_indexed_on_postgresql(pg_databases):
    check_messages_get_indexed(pg_databases[0], *on_postgresql(pg_databases[0]),
                               "SELECT message_id FROM message_search WHERE vector @@ CAST('TERM' AS tsquery)")
