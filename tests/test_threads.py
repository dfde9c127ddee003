"""Threads: a message's replies in a child conversation (app/chat/threads.py). Access is the parent
conversation's (readers read, members post, archived is read-only, no thread in a thread); the
replier, whom a reply mentions and the parent's author follow it; the parent message shows a
summary that takes a new number with every reply; unread, catch-up, notifications and search
work as in any conversation; leaving the parent room ends the follows."""
from __future__ import annotations

import pytest

from app.chat import levels, reactions, threads
from app.chat import service as chat
from app.domain import Invalid, NotFound
from app.models import Attachment, Conversation, Membership, Mention, Message, User
from app.notify import service as notify
from app.search import service as search
from tests.helpers.accounts import make_user
from tests.helpers.api import api_login
from tests.helpers.chat import lift_posting_limit, posted


@pytest.fixture
async def said(app, general, alice) -> Message:
    lift_posting_limit(app)
    return await posted(app, alice, general, "lunch?")


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


async def test_the_summary_names_the_latest_distinct_repliers_and_counts_what_is_left(app, said, general, alice,
                                                                                     bob, admin):
    carol = await make_user("carol")
    dave = await make_user("dave")
    async with app.app_context():
        for person in (carol, dave):
            await chat.welcome(person)
        thread = await threads.open_thread(bob, said.id)
        for person in (bob, carol, bob, dave, admin):
            await chat.post(person, thread, f"from {person.username}")
        data = (await chat_data(said.id))["thread"]
        assert data["replies"] == 5 and data["repliers"] == ["admin", "dave", "bob"]
        assert data["conversation_id"] == thread.id and data["last_reply_at"]
        last = await Message.get(conversation_id=thread.id, seq=5)
        before = (await Message.get(id=said.id)).version_seq
        await chat.delete(admin, last)
        parent = await Message.get(id=said.id)
        assert parent.version_seq > before  # the summary changed: a new number
        data = (await chat_data(said.id))["thread"]
    assert data["replies"] == 4 and data["repliers"] == ["dave", "bob", "carol"]


async def chat_data(message_id: int) -> dict:
    from app.chat.events import messages_data

    return (await messages_data([await Message.get(id=message_id)]))[0]


async def test_a_message_without_replies_has_no_thread_for_programs(app, said, bob):
    async with app.app_context():
        await threads.open_thread(bob, said.id)  # opened, never answered
        assert (await chat_data(said.id))["thread"] is None


async def test_members_of_the_parent_post_readers_of_an_open_room_read_but_do_not_post(app, said, general, alice,
                                                                                      bob):
    carol = await make_user("carol")  # not in #general: she may read it (open), not post
    async with app.app_context():
        thread = await threads.open_thread(carol, said.id)
        found, message, parent, follow = await threads.thread_of(carol, thread.id)
        assert (found.id, message.id, parent.id, follow) == (thread.id, said.id, general.id, None)
        with pytest.raises(NotFound):
            await chat.post(carol, thread, "me too")
        with pytest.raises(NotFound):
            await chat.member_of(carol, thread.id)
        assert (await chat.post(bob, thread, "yes")).conversation_id == thread.id


async def test_a_closed_rooms_thread_does_not_exist_for_outsiders_administrators_included(app, general, alice,
                                                                                         bob, admin):
    room = await closed_room(app, alice, bob)
    async with app.app_context():
        secret = await chat.post(alice, room, "plans")
        thread = await threads.open_thread(bob, secret.id)
        await chat.post(bob, thread, "agreed")
        for outsider in (admin, await make_user("carol")):
            with pytest.raises(NotFound):
                await threads.thread_of(outsider, thread.id)
            with pytest.raises(NotFound):
                await chat.visible(outsider, thread.id)
            with pytest.raises(NotFound):
                await chat.post(outsider, thread, "hello?")
            with pytest.raises(NotFound):
                await threads.follow(outsider, thread.id, True)
            assert thread.id not in await chat.readable_conversation_ids(outsider)
            assert not await live_rooms().may_follow(outsider.id, f"conversation:{thread.id}")


def live_rooms():
    from app.chat.live import rooms

    return rooms


async def test_an_archived_rooms_threads_are_read_only(app, said, general, alice, bob, admin):
    room = await closed_room(app, alice, bob, name="old")
    async with app.app_context():
        first = await chat.post(alice, room, "topic")
        thread = await threads.open_thread(bob, first.id)
        reply = await chat.post(bob, thread, "a reply")
        await chat.change_room(alice, room, archived=True)
        thread = await Conversation.get(id=thread.id)
        with pytest.raises(Invalid) as refused:
            await chat.post(bob, thread, "more")
        assert "archived" in refused.value.errors["body"] and "None" not in refused.value.errors["body"]
        with pytest.raises(Invalid):
            await chat.edit(bob, await Message.get(id=reply.id), "changed")
        with pytest.raises(Invalid):
            await reactions.react(alice, reply.id, "👍")
        assert (await threads.thread_of(bob, thread.id))[0].id == thread.id  # still read
        await chat.change_room(alice, room, archived=False)
        assert (await chat.post(bob, await Conversation.get(id=thread.id), "back")).seq == 2


async def test_no_thread_in_a_thread_by_any_door(app, said, bob):
    async with app.app_context():
        thread = await threads.open_thread(bob, said.id)
        reply = await chat.post(bob, thread, "yes")
    api = await api_login(app, "bob")
    status, body, _ = await api.post(f"/api/v1/messages/{reply.id}/thread")
    assert status == 422 and "message" in body["error"]["fields"]


# --- following ----------------------------------------------------------------------------------

async def test_a_mentioned_member_follows_and_gets_the_mention_in_the_thread(app, said, general, alice, bob,
                                                                            admin):
    async with app.app_context():
        thread = await threads.open_thread(bob, said.id)
        reply = await chat.post(bob, thread, "@admin what do you think?")
        follow = await Membership.get(conversation_id=thread.id, user_id=admin.id)
        assert follow.last_read_seq == reply.seq - 1  # the mention is unread for them
        assert (await chat.mention_counts_by_id(admin.id)).get(thread.id) == 1
        assert (await chat.unread_counts_by_id(admin.id)).get(thread.id) == 1
        assert await Mention.filter(message_id=reply.id, user_id=admin.id).exists()
        items, _ = await chat.mentions_of(admin)
        assert [i.message.id for i in items] == [reply.id] and items[0].unread
        assert (await threads.followed_counts(admin)) == (1, 1)


async def test_someone_mentioned_in_an_edit_follows_from_then(app, said, alice, bob, admin):
    async with app.app_context():
        thread = await threads.open_thread(bob, said.id)
        reply = await chat.post(bob, thread, "what do we think?")
        assert not await Membership.exists(conversation_id=thread.id, user_id=admin.id)
        await chat.edit(bob, await Message.get(id=reply.id), "what do we think, @admin?")
        assert await Membership.exists(conversation_id=thread.id, user_id=admin.id)
        assert (await chat.mention_counts_by_id(admin.id)).get(thread.id) == 1


async def test_following_by_hand_and_stopping(app, said, alice, bob, admin):
    async with app.app_context():
        thread = await threads.open_thread(bob, said.id)
        await chat.post(bob, thread, "one")
        follow = await threads.follow(admin, thread.id, True)
        assert follow.last_read_seq == 1  # what was there is read
        await chat.post(bob, thread, "two")
        assert (await chat.unread_counts_by_id(admin.id))[thread.id] == 1
        assert await threads.follow(admin, thread.id, False) is None
        assert thread.id not in await chat.unread_counts_by_id(admin.id)
        assert await threads.followed(admin) == []


async def test_the_parent_author_who_can_no_longer_read_does_not_follow(app, general, alice, bob):
    room = await closed_room(app, alice, bob)
    async with app.app_context():
        said = await chat.post(alice, room, "plans")
        await chat.leave(alice, room)
        thread = await threads.open_thread(bob, said.id)
        await chat.post(bob, thread, "she left")
        assert not await Membership.exists(conversation_id=thread.id, user_id=alice.id)


# --- reading ------------------------------------------------------------------------------------

async def test_reading_the_thread_clears_its_unread_and_a_non_follower_stores_nothing(app, said, alice, bob,
                                                                                     admin):
    async with app.app_context():
        thread = await threads.open_thread(bob, said.id)
        await chat.post(bob, thread, "one")
        await chat.post(bob, thread, "two")
        assert (await chat.unread_counts_by_id(alice.id))[thread.id] == 2  # the parent's author follows
        items = await threads.followed(alice)
        assert [(i.thread.id, i.unread) for i in items] == [(thread.id, 2)]
        await chat.mark_read(alice, await Conversation.get(id=thread.id))
        assert (await chat.unread_counts_by_id(alice.id))[thread.id] == 0
        assert await threads.followed_counts(alice) == (0, 0)
        assert await chat.mark_read(admin, await Conversation.get(id=thread.id)) == 0
        assert not await Membership.exists(conversation_id=thread.id, user_id=admin.id)


async def test_unread_threads_come_first_then_the_latest_reply(app, general, alice, bob):
    async with app.app_context():
        first, second, third = [await chat.post(alice, general, text) for text in ("a", "b", "c")]
        made = {}
        for message in (first, second, third):
            made[message.id] = await threads.open_thread(bob, message.id)
            await chat.post(bob, made[message.id], "reply")
        await chat.mark_read(alice, await Conversation.get(id=made[second.id].id))
        await chat.post(bob, made[first.id], "again")
        order = [item.message.id for item in await threads.followed(alice)]
    assert order == [first.id, third.id, second.id]


async def test_the_sidebar_lists_no_thread_as_a_room_or_a_direct(app, said, general, alice, bob):
    async with app.app_context():
        thread = await threads.open_thread(bob, said.id)
        await chat.post(bob, thread, "reply")
        assert thread.id not in [c.id for c, _ in await chat.my_conversations(alice)]
    api = await api_login(app, "alice")
    status, body, _ = await api.get("/api/v1/conversations")
    assert status == 200 and thread.id not in [c["id"] for c in body["data"]]


# --- leaving the parent ---------------------------------------------------------------------------

async def test_leaving_or_being_removed_from_the_room_ends_reading_posting_and_following(app, general, alice, bob,
                                                                                        admin):
    carol = await make_user("carol")
    room = await closed_room(app, alice, bob, carol)
    async with app.app_context():
        said = await chat.post(alice, room, "plans")
        thread = await threads.open_thread(bob, said.id)
        await chat.post(bob, thread, "yes")
        await chat.post(carol, thread, "me too")
        await chat.leave(bob, room)
        await chat.remove_member(alice, room, carol)
        for gone in (bob, carol):
            assert not await Membership.exists(conversation_id=thread.id, user_id=gone.id)
            with pytest.raises(NotFound):
                await threads.thread_of(gone, thread.id)
            with pytest.raises(NotFound):
                await chat.post(gone, thread, "still here?")
            assert await threads.followed(gone) == []
            assert not await live_rooms().may_follow(gone.id, f"conversation:{thread.id}")


async def test_closing_a_room_ends_the_follows_of_those_not_in_it(app, general, alice, bob, admin):
    carol = await make_user("carol")  # reads the open room without joining; mentioned, she follows
    async with app.app_context():
        room = await chat.create_room(alice, "plans", is_open=True)
        await chat.join(bob, room)
        said = await chat.post(alice, room, "ideas?")
        thread = await threads.open_thread(bob, said.id)
        await chat.post(bob, thread, "@carol look")
        assert await Membership.exists(conversation_id=thread.id, user_id=carol.id)
        await chat.change_room(alice, room, is_open=False)
        assert not await Membership.exists(conversation_id=thread.id, user_id=carol.id)
        assert await Membership.exists(conversation_id=thread.id, user_id=bob.id)
        with pytest.raises(NotFound):
            await threads.thread_of(carol, thread.id)


async def test_deleting_a_room_takes_its_threads_and_their_index(app, general, alice, bob):
    async with app.app_context():
        room = await chat.create_room(alice, "temp", is_open=True)
        said = await chat.post(alice, room, "hello")
        thread = await threads.open_thread(alice, said.id)
        await chat.post(alice, thread, "needleword")
        await chat.delete_room(alice, room)
        assert not await Conversation.exists(id=thread.id)
        assert (await search.search(alice, "needleword")).hits == []


# --- search -----------------------------------------------------------------------------------------

async def test_a_reply_is_found_by_who_may_read_the_parent_and_not_by_an_outsider(app, general, alice, bob, admin):
    room = await closed_room(app, alice, bob)
    async with app.app_context():
        said = await chat.post(alice, room, "plans")
        thread = await threads.open_thread(bob, said.id)
        reply = await chat.post(bob, thread, "zanzibar tomorrow")
        assert [h.message.id for h in (await search.search(alice, "zanzibar")).hits] == [reply.id]
        assert [h.message.id for h in (await search.search(alice, "zanzibar in:#leads")).hits] == [reply.id]
        assert [h.message.id for h in (await search.search(alice, "zanzibar", conversation_id=room.id)).hits] == [
            reply.id]
        assert (await search.search(admin, "zanzibar")).hits == []
        open_said = await chat.post(alice, general, "open")
        open_thread = await threads.open_thread(alice, open_said.id)
        open_reply = await chat.post(alice, open_thread, "kilimanjaro")
        carol = await make_user("carol")  # not in #general: reads it, as its page previews it
        assert [h.message.id for h in (await search.search(carol, "kilimanjaro")).hits] == [open_reply.id]


async def test_a_hit_in_a_thread_links_to_it_and_says_where(app, client, general, alice, bob):
    async with app.app_context():
        said = await chat.post(alice, general, "plans")
        thread = await threads.open_thread(bob, said.id)
        reply = await chat.post(bob, thread, "zanzibar")
    await client.login("alice")
    response = await client.get("/search?q=zanzibar")
    html = await response.get_data(as_text=True)
    assert f"/chat/{thread.id}/messages/{reply.id}" in html and "thread in #general" in html


# --- notifications --------------------------------------------------------------------------------------

async def test_followers_are_told_at_their_level_non_followers_and_muted_ones_not(app, said, general, alice, bob,
                                                                                 admin):
    carol = await make_user("carol")
    async with app.app_context():
        await chat.welcome(carol)
        thread = await threads.open_thread(bob, said.id)
        await chat.post(bob, thread, "first")  # alice (the author) follows now
        reply = await chat.post(bob, thread, "second")
        told = await notify.recipients(reply, set())
        assert alice.id in told.everyone and carol.id not in told.everyone and admin.id not in told.everyone
        assert (await notify.notification(reply, False)).title == "Thread in #general"
        await levels.choose(alice, thread.id, "nothing")
        muted = await chat.post(bob, thread, "third")
        assert alice.id not in (await notify.recipients(muted, set())).everyone
        with pytest.raises(NotFound):
            await levels.choose(carol, thread.id, "all")  # not following: nothing to choose
        mentioned = await chat.post(bob, thread, "@carol see")
        told = await notify.recipients(mentioned, {carol.id})
        assert carol.id in told.urgent  # she follows now, and it names her


async def test_a_follower_who_can_no_longer_read_is_not_told(app, alice, bob, general):
    async with app.app_context():
        room = await chat.create_room(alice, "plans", is_open=True)
        said = await chat.post(alice, room, "ideas?")
        thread = await threads.open_thread(bob, said.id)
        await threads.follow(bob, thread.id, True)  # a reader of the open room
        await Conversation.filter(id=room.id).update(is_open=False)  # closed behind the follows' back
        reply = await chat.post(alice, thread, "secret now")
        assert bob.id not in (await notify.recipients(reply, set())).everyone


async def test_chat_lands_on_the_last_room_visited_never_on_a_thread(app, said, general, alice, bob):
    from app.chat import visits

    async with app.app_context():
        thread = await threads.open_thread(bob, said.id)
        await chat.post(bob, thread, "reply")
        await chat.mark_read(alice, await Conversation.get(id=general.id))
        await chat.mark_read(alice, await Conversation.get(id=thread.id))  # read last, beside #general
        assert await visits.landing(alice) == general.id


async def test_a_reply_to_a_reply_in_a_thread_mentions_its_author_who_then_follows(app, said, alice, bob, admin):
    async with app.app_context():
        thread = await threads.open_thread(bob, said.id)
        first = await chat.post(admin, thread, "an idea")
        await threads.follow(admin, thread.id, False)
        answer = await chat.post(bob, thread, "good one", reply_to=first.id)
        assert admin.id in (await chat_data(answer.id))["mentions"]
        assert await Membership.exists(conversation_id=thread.id, user_id=admin.id)


async def test_a_mention_in_a_thread_says_where_on_the_mentions_page(app, client, general, alice, bob, admin):
    async with app.app_context():
        direct = await chat.send_direct(alice, ["admin"], "psst")
        thread = await threads.open_thread(admin, direct.id)
        await chat.post(admin, thread, "@alice see")
        said = await chat.post(bob, general, "plans")
        await chat.post(bob, await threads.open_thread(bob, said.id), "@alice and here")
    await client.login("alice")
    html = await (await client.get("/mentions")).get_data(as_text=True)
    assert "thread in #general" in html and "thread with admin" in html


async def test_a_file_in_a_thread_is_read_by_the_parents_rule(app, general, alice, bob, admin, tmp_path):
    from app.files import service as files
    from app.files.receive import ReceivedFile

    data = b"%PDF-1.4 plans"
    path = tmp_path / "plans.pdf"
    path.write_bytes(data)
    room = await closed_room(app, alice, bob)
    async with app.app_context():
        said = await chat.post(alice, room, "plans")
        thread = await threads.open_thread(bob, said.id)
        upload = await files.upload(bob, ReceivedFile(path, "plans.pdf", len(data)))
        await chat.post(bob, thread, "attached", attachments=[upload.id])
        token = (await Attachment.get(id=upload.id)).token
        assert (await files.readable(alice, token)).id == upload.id  # a member of the room, not following
        with pytest.raises(NotFound):
            await files.readable(admin, token)
        await chat.leave(bob, room)
        with pytest.raises(NotFound):
            await files.readable(bob, token)
