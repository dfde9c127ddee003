"""Numbers under concurrency, on SQLite and on PostgreSQL: posts, edits and deletions racing in
one conversation never share a number, every number from 1 to the last is used once, and a post
retried with its client id at the same moment is stored once.

On PostgreSQL the race runs in a child process (`python -m tests.test_chat_races URL DIR`):
Tortoise cannot use two dialects in one process."""
from __future__ import annotations

import asyncio

from app.chat import service
from app.models import Conversation, Membership, Message, User
from tests.helpers.chat import welcomed
from tests.helpers.postgres import child_main, in_child, pg_site

WRITERS = 20


async def race() -> dict:
    people = [await User.create_account(f"writer{n}", f"w{n}@example.com", "x" * 12) for n in range(4)]
    room = await welcomed(*people)
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
    check(in_child("tests.test_chat_races", pg_database, str(tmp_path)))


async def _on_postgresql(url: str, data_dir: str) -> dict:
    async with pg_site(url, data_dir):
        return await race()


if __name__ == "__main__":
    child_main(_on_postgresql)
