"""Threads: a message's replies in a child conversation (app/chat/threads.py). Access is the parent
conversation's (readers read, members post, archived is read-only, no thread in a thread); the
replier, whom a reply mentions and the parent's author follow it; the parent message shows a
summary that takes a new number with every reply; unread, catch-up, notifications and search
work as in any conversation; leaving the parent room ends the follows."""
from __future__ import annotations

import pytest

from app.chat import service as chat
from app.chat import threads
from app.domain import Invalid, NotFound
from app.models import Conversation, Membership, Message, User
from tests.helpers.accounts import make_user
from tests.helpers.chat import lift_posting_limit


@pytest.fixture
async def said(app, general, alice) -> Message:
    lift_posting_limit(app)
    async with app.app_context():
        return await chat.post(alice, general, "lunch?")


async def closed_room(app, owner: User, *people: User, name: str = "leads") -> Conversation:
    async with app.app_context():
        return await chat.create_room(owner, name, is_open=False, member_names=[p.username for p in people])


# --- opening a thread ---------------------------------------------------------------------------

async def test_open_thread_makes_one_thread_per_message_and_is_idempotent(app, said, general, bob):
    async with app.app_context():
        thread = await threads.open_thread(bob, said.id)
        again = await threads.open_thread(bob, said.id)
    assert thread.id == again.id and thread.is_thread
    assert thread.parent_message_id == said.id and thread.parent_id == general.id
    assert await Conversation.filter(parent_message_id=said.id).count() == 1
    assert await Membership.filter(conversation_id=thread.id).count() == 0  # opening follows nothing


async def test_no_thread_for_a_message_one_cannot_read_nor_a_deleted_one_nor_in_a_thread(app, said, general, alice,
                                                                                        bob, admin):
    room = await closed_room(app, alice)
    async with app.app_context():
        secret = await chat.post(alice, room, "secret")
        with pytest.raises(NotFound):
            await threads.open_thread(bob, secret.id)
        with pytest.raises(NotFound):
            await threads.open_thread(admin, secret.id)  # no special read right
        direct = await chat.send_direct(alice, ["admin"], "hi")
        with pytest.raises(NotFound):
            await threads.open_thread(bob, direct.id)
        assert (await threads.open_thread(admin, direct.id)).parent_id == direct.conversation_id  # directs too
        gone = await chat.post(alice, general, "oops")
        await chat.delete(alice, gone)
        with pytest.raises(NotFound):
            await threads.open_thread(alice, gone.id)
        with pytest.raises(NotFound):
            await threads.open_thread(alice, 10**15)
        thread = await threads.open_thread(bob, said.id)
        reply = await chat.post(bob, thread, "yes")
        with pytest.raises(Invalid) as refused:
            await threads.open_thread(bob, reply.id)
    assert "message" in refused.value.errors


# --- replying -----------------------------------------------------------------------------------

async def test_a_reply_follows_and_the_parent_shows_a_summary_with_a_new_number(app, said, general, alice, bob):
    async with app.app_context():
        thread = await threads.open_thread(bob, said.id)
        before = (await Message.get(id=said.id)).version_seq
        reply = await chat.post(bob, thread, "yes, at noon")
        parent = await Message.get(id=said.id)
        assert reply.seq == 1 and parent.version_seq > before
        assert parent.version_seq == (await Conversation.get(id=general.id)).last_seq
        await threads.thread_lists([parent])
        summary = parent.thread_summary
        assert summary.thread_id == thread.id and summary.replies == 1
        assert [label.username for label in summary.repliers] == ["bob"]
        follows = {m.user_id: m.last_read_seq for m in await Membership.filter(conversation_id=thread.id)}
    # the replier (read), and the parent's author from the first reply (unread for her)
    assert follows == {bob.id: 1, alice.id: 0}
