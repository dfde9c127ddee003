"""Threads under concurrency, on SQLite and on PostgreSQL: many people opening a message's thread
at the same moment get one thread; replies racing in it never share a number, each replier
follows once, and the parent message ends with the summary of every reply at a number of its own.

On PostgreSQL the race runs in a child process (`python -m tests.test_threads_races URL DIR`):
Tortoise cannot use two dialects in one process."""
from __future__ import annotations

import asyncio

from app.chat import service, threads
from app.chat.thread_lists import summaries
from app.models import Conversation, Membership, Message, User
from tests.helpers.chat import lift_posting_limit, welcomed
from tests.helpers.postgres import child_main, in_child, pg_site

PEOPLE = 6
REPLIES = 18


async def race() -> dict:
    people = [await User.create_account(f"racer{n}", f"r{n}@example.com", "x" * 12) for n in range(PEOPLE)]
    room = await welcomed(*people)
    said = await service.post(people[0], room, "who is in?")
    opened = await asyncio.gather(*(threads.open_thread(people[n % PEOPLE], said.id) for n in range(12)),
                                  return_exceptions=True)
    problems = [repr(r) for r in opened if isinstance(r, Exception)]
    thread = await Conversation.get(parent_message_id=said.id)
    replies = await asyncio.gather(*(service.post(people[n % PEOPLE], thread, f"reply {n}") for n in range(REPLIES)),
                                   return_exceptions=True)
    problems += [repr(r) for r in replies if isinstance(r, Exception)]
    rows = await Message.filter(conversation_id=thread.id).order_by("seq")
    followers = await Membership.filter(conversation_id=thread.id).values_list("user_id", flat=True)
    parent = await Message.get(id=said.id)
    result = {
        "problems": problems,
        "threads": await Conversation.filter(parent_message_id=said.id).count(),
        "same_thread": sorted({t.id for t in opened if isinstance(t, Conversation)}) == [thread.id],
        "seqs": [m.seq for m in rows],
        "followers": sorted(followers) == sorted(p.id for p in people),
        "parent_is_latest": parent.version_seq == (await Conversation.get(id=room.id)).last_seq,
        "replies": (await summaries([thread.id]))[thread.id].replies,
    }
    # The reads of threads on this database's dialect too: the Threads list, who may read, mentions.
    mention = await service.post(people[1], thread, f"@{people[2].username} look")
    items = await threads.followed(people[2])
    result["followed"] = [(i.thread.id, i.message.id, i.unread >= 1, i.mentions) for i in items] == [
        (thread.id, said.id, True, 1)]  # (what came after their own reply, in the race's order)
    result["unread_before"] = list(await threads.followed_counts(people[2]))
    result["mention_found"] = [i.message.id for i in (await service.mentions_of(people[2]))[0]] == [mention.id]
    result["readable"] = thread.id in await service.readable_conversation_ids(people[5])
    for item in items:
        await service.mark_read(people[2], await Conversation.get(id=item.thread.id))
    result["read_after"] = list(await threads.followed_counts(people[2]))
    return result


def check(result: dict) -> None:
    assert result["problems"] == []
    assert result["threads"] == 1 and result["same_thread"]
    assert result["seqs"] == list(range(1, REPLIES + 1))
    assert result["followers"]  # every replier once (the parent's author among them)
    assert result["parent_is_latest"], result
    assert result["replies"] == REPLIES, result
    assert result["followed"] and result["unread_before"] == [1, 1]  # one thread unread, one mention
    assert result["mention_found"] and result["readable"]
    assert result["read_after"] == [0, 0]


async def test_racing_opens_and_replies_on_sqlite(app):
    lift_posting_limit(app)
    async with app.app_context():
        check(await race())


def test_racing_opens_and_replies_on_postgresql(pg_database, tmp_path):
    check(in_child("tests.test_threads_races", pg_database, str(tmp_path)))


async def _on_postgresql(url: str, data_dir: str) -> dict:
    async with pg_site(url, data_dir) as app:
        lift_posting_limit(app)
        return await race()


if __name__ == "__main__":
    child_main(_on_postgresql)
