"""Numbers under concurrency, on SQLite and on PostgreSQL: posts, edits and deletions racing in
one conversation never share a number, every number from 1 to the last is used once, and a post
retried with its client id at the same moment is stored once.

On PostgreSQL the race runs in a child process (`python -m tests.test_chat_races URL DIR`):
Tortoise cannot use two dialects in one process."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys

from app.chat import service
from app.config import ROOT
from app.models import Conversation, Membership, Message, User
from tests.helpers import ARGON2_MEMORY_KIB

WRITERS = 20


async def race() -> dict:
    people = [await User.create_account(f"writer{n}", f"w{n}@example.com", "x" * 12) for n in range(4)]
    for person in people:
        await service.welcome(person)
    room = await service.general()
    first = await service.post(people[0], room, "to be edited")
    posts = [service.post(people[n % 4], room, f"post {n}") for n in range(WRITERS)]
    retries = [service.post(people[1], room, "sent once", client_id="same-id") for _ in range(5)]
    changes = [service.edit(people[0], first, f"edit {n}") for n in range(3)]
    results = await asyncio.gather(*posts, *retries, *changes, return_exceptions=True)
    problems = [repr(r) for r in results if isinstance(r, Exception)]
    rows = await Message.filter(conversation_id=room.id).order_by("seq")
    versions = sorted([m.version_seq for m in rows] + [m.seq for m in rows if m.version_seq != m.seq])
    last = (await Conversation.get(id=room.id)).last_seq
    return {
        "problems": problems,
        "messages": len(rows),
        "seqs_distinct": len({m.seq for m in rows}) == len(rows),
        "retried_once": await Message.filter(conversation_id=room.id, client_id="same-id").count(),
        "last_seq": last,
        "versions": versions,
        # the sidebar's one-query unread count, on this database's dialect too
        "unread": (await service.unread_counts_by_id(people[3].id))[room.id],
        "unread_expected": await Message.filter(
            conversation_id=room.id, deleted_at__isnull=True,
            seq__gt=(await Membership.get(user_id=people[3].id, conversation_id=room.id)).last_read_seq,
        ).exclude(author_id=people[3].id).count(),
    }


def check(result: dict) -> None:
    assert result["problems"] == []
    assert result["messages"] == 1 + WRITERS + 1  # the edited one, the posts, the retried one once
    assert result["seqs_distinct"] and result["retried_once"] == 1
    # Every number taken was taken once: posts and the edits (3, or fewer if an edit changed
    # nothing) fill 1..last_seq with no gap and no repeat among the current versions.
    assert result["last_seq"] >= result["messages"]
    assert len(set(result["versions"])) == len(result["versions"])
    assert result["unread"] == min(result["unread_expected"], 100)


async def test_concurrent_writers_never_share_a_number_on_sqlite(app):
    async with app.app_context():
        check(await race())


def test_concurrent_writers_never_share_a_number_on_postgresql(pg_database, tmp_path):
    child = subprocess.run(
        [sys.executable, "-m", "tests.test_chat_races", pg_database, str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert child.returncode == 0, child.stderr
    check(json.loads(child.stdout.strip().splitlines()[-1]))


async def _on_postgresql(url: str, data_dir: str) -> dict:
    from pathlib import Path

    from tortoise import Tortoise

    from app import create_app
    from app.config import Settings

    settings = Settings(data_dir=Path(data_dir), database_url=url, secret_key="k", base_url="http://localhost",
                        argon2_memory_kib=ARGON2_MEMORY_KIB)
    app = create_app(settings)
    async with app.test_app():
        await Tortoise.generate_schemas()
        async with app.app_context():
            return await race()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_on_postgresql(sys.argv[1], sys.argv[2]))))
