"""Chat on the live socket: each page gets each change once, in order, members only; a page that
reconnects catches up from the database (edits and deletions included); typing; membership."""
from __future__ import annotations

import json
import re

import pytest

from app.chat import service
from app.models import Conversation, Message
from app.realtime.broker import MemoryBroker
from app.runtime import Runtime
from tests.helpers.live import ORIGIN, barrier, page, receive, receive_until


def seqs(messages: list[str]) -> list[int]:
    return [int(re.search(r'id="live-seq" data-conversation="\d+" data-seq="(\d+)"', m).group(1))
            for m in messages if 'id="live-seq"' in m]


@pytest.fixture
async def room(app, alice, bob):
    async with app.app_context():
        await service.welcome(alice)
        await service.welcome(bob)
        return await service.general()


async def test_a_member_gets_a_new_message_once_as_the_rendered_fragment(app, client, sign_in, alice, bob, room):
    await client.login("bob")
    async with page(client, room) as bobs:
        async with app.app_context():
            message = await service.post(alice, room, "hello <b>bob</b>")
        got = await barrier(bobs)
        assert len(got) == 1 and f'id="message-{message.id}"' in got[0]
        assert "hello &lt;b&gt;bob&lt;/b&gt;" in got[0] and 'hx-swap-oob="beforeend:#conversation-' in got[0]


async def test_people_outside_a_closed_room_hear_nothing_of_it(app, client, alice, bob, room):
    async with app.app_context():
        secret = await service.create_room(alice, "secret", is_open=False)
    await client.login("bob")
    async with page(client, secret, after=0) as bobs:  # asking for it changes nothing
        async with app.app_context():
            await service.post(alice, secret, "for alice only")
            await service.post(alice, room, "for everyone")
        got = await barrier(bobs)
        assert not any("for alice only" in m for m in got)
        assert any("for everyone" in m for m in got)


async def test_a_reconnecting_page_catches_up_with_posts_edits_and_deletions_in_order(app, client, alice, bob, room):
    await client.login("bob")
    async with app.app_context():
        first = await service.post(alice, room, "first")
    async with page(client, room) as bobs:
        cursor = (await Conversation.get(id=room.id)).last_seq
    # bob's page is away (sleep, network, server restart): meanwhile...
    async with app.app_context():
        second = await service.post(alice, room, "second")
        await service.edit(alice, first, "first, edited")
        await service.delete(alice, second)
        third = await service.post(alice, room, "third")
    async with page(client, room, after=cursor) as bobs:
        got = bobs.replay
        assert seqs(got) == sorted(seqs(got)) and len(set(seqs(got))) == len(seqs(got))  # in order, once
        text = "".join(got)
        assert "first, edited" in text and f'id="message-{first.id}" class="message" hx-swap-oob="true"' in text
        assert "(removed account)" not in text  # an edit swaps in with its author's name, as a post does
        assert f'id="message-{second.id}"' not in text  # posted and deleted while away: never shown
        assert f'id="message-{third.id}"' in text
        # and live again: the next post arrives once, after the replay
        async with app.app_context():
            fourth = await service.post(alice, room, "fourth")
        live = await barrier(bobs)
        assert len(live) == 1 and f'id="message-{fourth.id}"' in live[0]
    assert max(seqs(got)) == (await Conversation.get(id=room.id)).last_seq - 1


async def test_a_deletion_seen_while_away_removes_the_message(app, client, alice, bob, room):
    await client.login("bob")
    async with app.app_context():
        message = await service.post(alice, room, "soon gone")
    cursor = (await Conversation.get(id=room.id)).last_seq
    async with app.app_context():
        await service.delete(alice, message)
    async with page(client, room, after=cursor) as bobs:
        assert any(f'id="message-{message.id}" hx-swap-oob="delete"' in m for m in bobs.replay)


async def test_an_event_lost_by_the_broker_is_filled_from_the_database(app, client, alice, bob, room, monkeypatch):
    await client.login("bob")
    async with page(client, room) as bobs:
        broker: MemoryBroker = Runtime.of(app).broker
        real_publish = broker.publish

        async def lossy(event):  # the broker drops one message event (Redis restarting, say)
            if event.kind == "message.created" and event.data.get("text") == "lost":
                return
            await real_publish(event)

        monkeypatch.setattr(broker, "publish", lossy)
        async with app.app_context():
            lost = await service.post(alice, room, "lost")
            found = await service.post(alice, room, "after it")
        got = await barrier(bobs)
        text = "".join(got)
        assert text.index(f'id="message-{lost.id}"') < text.index(f'id="message-{found.id}"')
        assert text.count(f'id="message-{lost.id}"') == 1


async def test_events_before_the_hello_wait_for_it_and_come_after_the_replay_once(app, client, alice, bob, room):
    await client.login("bob")
    cursor = (await Conversation.get(id=room.id)).last_seq
    async with client.raw.websocket("/live", headers=ORIGIN) as socket:
        async with app.app_context():
            await service.post(alice, room, "before hello")  # the socket is subscribed, the page silent
        await socket.send(json.dumps({"type": "hello", "presence": [], "conversation": room.id, "after": cursor}))
        got = []
        while 'id="live-unread"' not in (message := await receive(socket)):
            got.append(message)
        got += await barrier(socket)
        assert sum("before hello" in m for m in got) == 1, got


# --- typing ---------------------------------------------------------------------------------------

async def test_typing_reaches_the_others_and_stops_when_the_typist_leaves(app, client, sign_in, alice, bob, room):
    alices = await sign_in("alice")
    await client.login("bob")
    async with page(client, room) as bobs:
        async with page(alices, room) as typist:
            await typist.send(json.dumps({"type": "typing", "conversation": room.id, "state": "start"}))
            start = await receive_until(bobs, 'id="live-typing"')
            assert 'data-name="alice"' in start and 'data-state="start"' in start
            await typist.send(json.dumps({"type": "typing", "conversation": room.id, "state": "start"}))
        # alice's page went away while typing: bob hears her stop, at once
        stop = await receive_until(bobs, 'id="live-typing"')
        assert 'data-state="stop"' in stop
    assert await Message.filter(conversation_id=room.id).count() == 0


@pytest.mark.parametrize("frame", [
    {"type": "typing", "conversation": "SECRET"}, {"type": "typing", "conversation": 99999},
    {"type": "typing", "conversation": None}, {"type": "typing", "conversation": "SECRET-ID", "state": "<b>"},
    {"type": "typing", "conversation": "SECRET-ID"},  # a real conversation, but not his
])
async def test_typing_in_a_conversation_that_is_not_mine_goes_nowhere(app, client, sign_in, alice, bob, frame):
    async with app.app_context():
        secret = await service.create_room(alice, "secret", is_open=False)
    frame = {k: (secret.id if v == "SECRET-ID" else str(secret.id) if v == "SECRET" else v) for k, v in frame.items()}
    alices = await sign_in("alice")
    await client.login("bob")
    async with page(alices, secret) as watcher, page(client, None) as bobs:
        await bobs.send(json.dumps(frame))
        await barrier(bobs)  # bob's frame has been handled
        assert not any("live-typing" in m for m in await barrier(watcher))


# --- membership and reading -----------------------------------------------------------------------

async def test_joining_a_room_starts_its_messages_and_leaving_stops_them_at_once(app, client, alice, bob, room):
    async with app.app_context():
        lounge = await service.create_room(alice, "lounge")
    await client.login("bob")
    async with page(client, room) as bobs:
        async with app.app_context():
            await service.join(bob, lounge)
        assert any('id="live-membership"' in m for m in await barrier(bobs))
        async with app.app_context():
            await service.post(alice, lounge, "welcome, bob")
        assert any("welcome, bob" in m for m in await barrier(bobs))
        async with app.app_context():
            await service.leave(bob, lounge)
            await barrier(bobs)
            await service.post(alice, lounge, "bob is gone")
        assert not any("bob is gone" in m for m in await barrier(bobs))


async def test_reading_a_conversation_clears_its_count_in_every_tab_of_mine(app, client, alice, bob, room):
    await client.login("bob")
    async with app.app_context():
        await service.post(alice, room, "unread")
    async with page(client, None) as first, page(client, None) as second:
        async with app.app_context():
            await service.mark_read(bob, room)
        for tab in (first, second):
            assert any(f'id="live-read" data-conversation="{room.id}"' in m for m in await barrier(tab))
    assert (await service.unread_counts(bob))[room.id] == 0
