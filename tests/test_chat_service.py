"""The chat service on its own (no HTTP): numbering under concurrency, one direct conversation per
set of people, unread counts, reading that never goes backwards, membership rules."""
from __future__ import annotations

import asyncio

import pytest

from app.chat import service
from app.domain import Invalid, NotAllowed, NotFound
from app.models import Conversation, Membership, Message
from tests.helpers.accounts import make_user
from tests.helpers.chat import lift_posting_limit


@pytest.fixture
def room(general):
    return general


async def test_twenty_concurrent_posts_get_distinct_numbers_one_to_twenty(app, room, alice, bob):
    async with app.app_context():
        posts = [service.post(alice if n % 2 else bob, room, f"post {n}") for n in range(20)]
        messages = await asyncio.gather(*posts)
    seqs = sorted(m.seq for m in messages)
    assert seqs == list(range(1, 21))
    stored = await Message.filter(conversation_id=room.id).values_list("seq", flat=True)
    assert sorted(stored) == list(range(1, 21))
    assert (await Conversation.get(id=room.id)).last_seq == 20


async def test_a_retried_client_id_is_stored_once(app, room, alice):
    async with app.app_context():
        first = await service.post(alice, room, "hello", client_id="abc-123")
        again = await service.post(alice, room, "hello", client_id="abc-123")
    assert first.id == again.id
    assert await Message.filter(conversation_id=room.id).count() == 1


async def test_a_direct_conversation_is_one_per_set_of_people_in_any_order(app, room, admin, alice, bob):
    async with app.app_context():
        carol = await make_user("carol")
        one = await service.send_direct(alice, ["bob", "carol"], "hi both")
        two = await service.send_direct(bob, ["carol", "alice"], "hi back")
        three = await service.send_direct(carol, ["ALICE", "bob", "bob"], "and me")
        pair = await service.send_direct(alice, ["bob"], "just you")
        pair_again = await service.send_direct(bob, ["alice"], "just me")
        assert await service.find_direct(alice, ["admin"]) is None
    assert one.conversation_id == two.conversation_id == three.conversation_id
    assert pair.conversation_id == pair_again.conversation_id != one.conversation_id
    assert await Membership.filter(conversation_id=one.conversation_id).count() == 3
    assert await Conversation.filter(kind="direct").count() == 2


async def test_nothing_is_made_for_a_direct_message_that_is_refused(app, room, alice):
    async with app.app_context():
        with pytest.raises(Invalid):
            await service.send_direct(alice, ["bob"], "   ")
        with pytest.raises(Invalid):
            await service.send_direct(alice, ["nobody"], "hello")
    assert await Conversation.filter(kind="direct").count() == 0


async def test_unread_counts_exclude_own_and_deleted_messages(app, room, alice, bob):
    async with app.app_context():
        await service.post(alice, room, "mine")
        theirs = [await service.post(bob, room, f"from bob {n}") for n in range(3)]
        await service.delete(bob, theirs[0])
        counts = await service.unread_counts(alice)
        assert counts[room.id] == 2
        assert (await service.unread_counts(bob))[room.id] == 0  # what I post, I have read


async def test_unread_counts_stop_at_the_cap(app, room, alice, bob):
    async with app.app_context():
        lift_posting_limit(app)
        for n in range(service.UNREAD_CAP + 5):
            await service.post(bob, room, f"{n}")
        assert (await service.unread_counts(alice))[room.id] == service.UNREAD_CAP


async def test_reading_never_goes_backwards(app, room, alice, bob):
    async with app.app_context():
        for n in range(5):
            await service.post(bob, room, f"{n}")
        assert await service.mark_read(alice, room, 4) == 4
        assert await service.mark_read(alice, room, 2) == 4
        assert await service.mark_read(alice, room, 999) == 5  # never past the last
        assert await service.mark_read(alice, room, -3) == 5
        assert (await service.unread_counts(alice))[room.id] == 0


async def test_closed_rooms_are_invisible_to_others_and_managed_by_creator_or_admin(app, room, admin, alice, bob):
    async with app.app_context():
        secret = await service.create_room(alice, "secret", is_open=False)
        with pytest.raises(NotFound):
            await service.visible(bob, secret.id)
        with pytest.raises(NotFound):
            await service.post(bob, secret, "let me in")
        with pytest.raises(NotFound):
            await service.join(bob, secret)
        with pytest.raises(NotAllowed):
            await service.add_member(bob, secret, "bob")
        await service.add_member(admin, secret, "bob")
        assert (await service.visible(bob, secret.id))[1] is not None
        await service.remove_member(alice, secret, bob)
        with pytest.raises(NotFound):
            await service.visible(bob, secret.id)


async def test_only_the_author_edits_and_the_author_or_an_admin_deletes(app, room, admin, alice, bob):
    async with app.app_context():
        message = await service.post(alice, room, "original")
        with pytest.raises(NotAllowed):
            await service.edit(bob, message, "hijacked")
        with pytest.raises(NotAllowed):
            await service.edit(admin, message, "admins neither")
        with pytest.raises(NotAllowed):
            await service.delete(bob, message)
        edited = await service.edit(alice, message, "changed")
        assert edited.body == "changed" and edited.edited_at is not None and edited.version_seq == 2
        await service.delete(admin, message)
        with pytest.raises(NotFound):
            await service.get_message(alice, message.id)
    assert (await Message.get(id=message.id)).seq == 1  # the tombstone keeps its number


async def test_history_pages_back_by_number(app, room, alice):
    async with app.app_context():
        lift_posting_limit(app)
        for n in range(1, 121):
            await service.post(alice, room, f"m{n}")
        newest, more = await service.history(room)
        assert [m.seq for m in newest] == list(range(71, 121)) and more
        older, more = await service.history(room, before=71)
        assert [m.seq for m in older] == list(range(21, 71)) and more
        oldest, more = await service.history(room, before=21)
        assert [m.seq for m in oldest] == list(range(1, 21)) and not more
