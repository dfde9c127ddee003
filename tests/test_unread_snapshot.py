"""The live socket's answer to a hello (app/live/socket.py, templates/chat/_unread_snapshot.html):
its unread counts list only the conversations with something unread, so a person following many
threads, all read, gets a snapshot of a few bytes; static/js/cursor.js clears a badge it does not name."""
from __future__ import annotations

import json
import re
from html import unescape

from app.chat import service as chat
from app.chat import threads
from tests.helpers.chat import lift_posting_limit
from tests.helpers.live import page, receive_until


def carried(snapshot: str, attribute: str) -> dict:
    found = re.search(rf' {attribute}="([^"]*)"', snapshot)
    assert found, f"the snapshot carries {attribute}"
    return json.loads(unescape(found.group(1)))


async def follow_threads(app, general, alice, bob, n: int) -> list:
    """n threads bob opened and replied in (he follows each, all read), under alice's messages."""
    lift_posting_limit(app)
    made = []
    async with app.app_context():
        for k in range(n):
            parent = await chat.post(alice, general, f"question {k}")
            thread = await threads.open_thread(bob, parent.id)
            await chat.post(bob, thread, f"my answer {k}")
            made.append(thread)
    return made


async def snapshot_of(client, general) -> str:
    async with page(client, general) as socket:
        await socket.send(json.dumps({"type": "hello", "presence": []}))  # a reconnect's hello
        return await receive_until(socket, 'id="live-unread"')


async def test_a_hello_with_fifty_followed_threads_all_read_carries_no_zeros(app, client, general, alice, bob):
    made = await follow_threads(app, general, alice, bob, 50)
    await client.login("bob")
    snapshot = await snapshot_of(client, general)
    counts = carried(snapshot, "data-counts")
    assert counts == {str(general.id): 50}  # alice's 50 questions; nothing for any thread
    assert not set(counts) & {str(t.id) for t in made}
    assert carried(snapshot, "data-threads") == {}
    assert 'data-threads-unread="0"' in snapshot


async def test_a_hello_carries_exactly_the_one_thread_with_something_unread(app, client, general, alice, bob):
    made = await follow_threads(app, general, alice, bob, 50)
    async with app.app_context():
        await chat.mark_read(bob, general)
        await chat.post(alice, made[7], "and another thing")
    await client.login("bob")
    snapshot = await snapshot_of(client, general)
    assert carried(snapshot, "data-counts") == {str(made[7].id): 1}
    assert carried(snapshot, "data-threads") == {str(made[7].id): [1, 0]}
    assert 'data-threads-unread="1"' in snapshot
