"""Replies: a message answers another of its conversation (messages.reply_to_id) and shows a
one-line quote of it as it is now; an edit or deletion of the original renumbers each reply
(message.edited), so pages and programs catch up exactly; a reply mentions the original's author.
Every door posts one (the form, htmx, REST, the JSON websocket, the messenger API); bad input and
other conversations' messages are a 422 naming reply_to that leaks nothing."""
from __future__ import annotations

import json
import re

import pytest

from app.chat import mentions, replies
from app.chat import service as chat
from app.chat.events import message_html
from app.domain import Invalid
from app.models import Conversation, Mention, Message
from tests.helpers import PASSWORD
from tests.helpers.api import Api, act, api_login, json_socket, pushed
from tests.helpers.chat import closed_room_with, posted, welcomed
from tests.helpers.live import barrier, page
from tests.helpers.postgres import pg_site

M = "/api/messenger"


@pytest.fixture
async def said(app, general, alice) -> Message:
    return await posted(app, alice, general, "**Lunch** at the `harbour` at noon? Bring [maps](https://maps.example)")


@pytest.fixture
async def secret(app, alice):
    """A closed room of alice's (bob and the admin are not in it), with a message."""
    return await closed_room_with(app, alice, "the launch code is 1234")


async def stored(message_id: int) -> Message:
    return await Message.get(id=message_id)


# --- the rule ---------------------------------------------------------------------------------------

async def test_a_reply_is_stored_with_the_message_it_answers_and_quotes_it(app, general, said, bob):
    async with app.app_context():
        reply = await chat.post(bob, general, "yes!", reply_to=said.id)
        assert (await stored(reply.id)).reply_to_id == said.id
        html = str(await message_html(await stored(reply.id)))
    assert reply.reply_quote == {"id": said.id, "seq": said.seq, "author_id": said.author_id, "author": "alice",
                                 "username": "alice", "excerpt": "Lunch at the harbour at noon? Bring maps",
                                 "deleted": False}
    assert f'href="/chat/{general.id}/messages/{said.id}#message-{said.id}"' in html
    assert 'aria-label="Reply to alice: Lunch at the harbour at noon? Bring maps"' in html


@pytest.mark.parametrize("value", ["", None])
async def test_no_reply_to_is_no_reply(app, general, bob, value):
    async with app.app_context():
        message = await chat.post(bob, general, "plain", reply_to=value)
    assert (await stored(message.id)).reply_to_id is None and message.reply_quote is None


@pytest.mark.parametrize("value", ["abc", "1.5", "-3", "0", -3, 0, 2**63, str(10**30), "١٢", True, 1.0, [1], {"id": 1},
                                   "99999999999"])
async def test_a_reply_to_that_names_no_message_here_is_refused_and_nothing_is_posted(app, general, bob, value):
    async with app.app_context():
        before = await Message.all().count()
        with pytest.raises(Invalid) as refused:
            await chat.post(bob, general, "hello", reply_to=value)
    assert set(refused.value.errors) == {"reply_to"} and await Message.all().count() == before


async def test_a_deleted_original_or_one_of_another_conversation_is_refused_without_leaking(app, general, said, alice,
                                                                                          bob, secret):
    room, hidden = secret
    async with app.app_context():
        other = await chat.create_room(bob, "other")
        elsewhere = await chat.post(bob, other, "somewhere else")
        await chat.delete(alice, said)
        words = set()
        for target in (said.id, elsewhere.id, hidden.id, hidden.id + 1000):
            with pytest.raises(Invalid) as refused:
                await chat.post(bob, general, "re", reply_to=target)
            words.add(refused.value.errors["reply_to"])
    assert words == {replies.NOT_HERE} and "1234" not in replies.NOT_HERE


async def test_the_excerpt_is_one_line_of_plain_text_cut_on_a_word(app):
    assert replies.excerpt("# Title\n\n- one\n- two\n\n```py\nx = 1\n```") == "Title one two x = 1"
    long = replies.excerpt("word " * 60)
    assert long.endswith("…") and len(long) <= replies.EXCERPT and "\n" not in long
    assert replies.excerpt("<script>alert(1)</script> &amp;") == "<script>alert(1)</script> &"  # as read; escaped later


async def test_the_quote_is_escaped(app, general, alice, bob):
    async with app.app_context():
        original = await chat.post(alice, general, '"><img src=x onerror=alert(1)> hi')
        reply = await chat.post(bob, general, "re", reply_to=original.id)
        html = str(await message_html(await stored(reply.id)))
    assert "<img" not in html and "&lt;img" in html


# --- the quote follows the original -------------------------------------------------------------------

async def test_an_edit_or_deletion_of_the_original_renumbers_each_reply(app, general, said, alice, bob, admin):
    async with app.app_context():
        first = await chat.post(bob, general, "yes", reply_to=said.id)
        second = await chat.post(admin, general, "me too", reply_to=said.id)
        await chat.edit(alice, await stored(said.id), "Lunch at one instead")
        last = (await Conversation.get(id=general.id)).last_seq
        assert [(await stored(m.id)).version_seq for m in (first, second)] == [last - 1, last]
        assert "Lunch at one instead" in str(await message_html(await stored(first.id)))
        await chat.delete(alice, await stored(said.id))
        last = (await Conversation.get(id=general.id)).last_seq
        assert (await stored(second.id)).version_seq == last
        html = str(await message_html(await stored(second.id)))
    assert "Original message deleted" in html and "one instead" not in html and 'data-reply-quote' not in html


async def test_a_page_that_was_away_catches_up_on_the_quote_exactly(app, client, general, said, alice, bob):
    async with app.app_context():
        reply = await chat.post(bob, general, "yes", reply_to=said.id)
    await client.login("admin")
    cursor = (await Conversation.get(id=general.id)).last_seq
    async with app.app_context():  # while the admin's page is away
        await chat.edit(alice, await stored(said.id), "Lunch moved to Friday")
    async with page(client, general, after=cursor) as admins:
        text = "".join(admins.replay)
        assert text.count(f'id="message-{reply.id}" class="message" hx-swap-oob="true"') == 1
        assert "Lunch moved to Friday" in text.split(f'id="message-{reply.id}"')[1]
        async with app.app_context():
            await chat.delete(alice, await stored(said.id))
        live = "".join(await barrier(admins))
    assert f'id="message-{reply.id}"' in live and "Original message deleted" in live


async def test_a_program_that_reconnects_with_its_cursor_gets_the_quote_as_it_is(app, general, said, alice, bob):
    async with app.app_context():
        reply = await chat.post(bob, general, "yes", reply_to=said.id)
    api = await api_login(app, "admin")
    cursor = (await Conversation.get(id=general.id)).last_seq
    async with app.app_context():
        await chat.edit(alice, await stored(said.id), "Lunch moved to Friday")
        await chat.delete(alice, await stored(said.id))
    async with json_socket(app) as back:
        await act(back, "auth", {"token": api.token})
        await back.send(json.dumps({"action": "subscribe", "data": {"conversations": {str(general.id): cursor}}}))
        edited = await pushed(back, "message.edited")  # its latest version, once
    data = edited["data"]
    assert data["id"] == reply.id
    assert data["reply_to"] == {"id": said.id, "seq": said.seq, "author": "alice", "excerpt": None, "deleted": True}
    assert data["version"] == (await Conversation.get(id=general.id)).last_seq


# --- a reply is a mention of the original's author ----------------------------------------------------------

async def test_a_reply_mentions_the_originals_author_and_counts_on_their_badge(app, general, said, alice, bob):
    async with app.app_context():
        before = await mentions.unread_total(alice.id)
        reply = await chat.post(bob, general, "yes", reply_to=said.id)
        assert await Mention.filter(message_id=reply.id).values_list("user_id", flat=True) == [alice.id]
        assert await mentions.unread_total(alice.id) == before + 1
        assert reply.mention_ids == [alice.id]
        await chat.edit(bob, await stored(reply.id), "yes, see you there")  # still a reply: still a mention
        assert await Mention.filter(message_id=reply.id).values_list("user_id", flat=True) == [alice.id]
        own = await chat.post(alice, general, "and me", reply_to=said.id)  # replying to oneself: no mention
        assert not await Mention.filter(message_id=own.id).exists()


async def test_one_who_may_no_longer_read_the_room_is_not_mentioned(app, alice, bob):
    async with app.app_context():
        room = await chat.create_room(alice, "club", is_open=False)
        await chat.add_member(alice, room, "bob")
        said = await chat.post(bob, room, "hi")
        await chat.leave(bob, room)
        reply = await chat.post(alice, room, "bye bob", reply_to=said.id)
    assert not await Mention.filter(message_id=reply.id).exists()


async def test_in_a_thread_a_reply_mentions_the_author_who_may_read_its_room(app, alice, bob, admin):
    from app.chat import threads

    async with app.app_context():
        room = await chat.create_room(alice, "crew", is_open=False, member_names=["bob", "admin"])
        said = await chat.post(alice, room, "release on friday?")
        thread = await threads.open_thread(bob, said.id)
        answer = await chat.post(admin, thread, "thursday works")
        await threads.follow(admin, thread.id, False)  # no longer following: still reads the room
        reply = await chat.post(bob, thread, "or friday", reply_to=answer.id)
        assert await Mention.filter(message_id=reply.id).values_list("user_id", flat=True) == [admin.id]
        with pytest.raises(Invalid):  # the room's message is not the thread's
            await chat.post(bob, thread, "re", reply_to=said.id)


async def test_the_author_hears_the_mention_live(app, general, said, bob):
    alices = await api_login(app, "alice")
    async with json_socket(app) as program:
        await act(program, "auth", {"token": alices.token})
        async with app.app_context():
            reply = await chat.post(bob, general, "yes", reply_to=said.id)
        got = await pushed(program, "mention")
    assert got["data"]["message_id"] == reply.id


# --- the doors -------------------------------------------------------------------------------------------

async def test_the_page_form_posts_a_reply_and_without_a_script_shows_the_bar(app, general, said, sign_in):
    bobs = await sign_in("bob")
    shown = await (await bobs.get(f"/chat/{general.id}?reply_to={said.id}")).get_data(as_text=True)
    bar = re.search(r'<p class="reply-bar" data-reply-bar>.*?</p>', shown, re.S).group(0)
    assert f'name="reply_to" value="{said.id}"' in bar and "Replying to <strong data-reply-name>alice</strong>" in bar
    assert f'href="/chat/{general.id}"' in bar and "Cancel reply" in bar
    response = await bobs.post(f"/chat/{general.id}/messages", {"body": "yes", "reply_to": str(said.id)})
    assert response.status_code == 303
    assert (await Message.filter(conversation_id=general.id).order_by("-id").first()).reply_to_id == said.id


@pytest.mark.parametrize("query", ["abc", "-1", "99999999999999999999999", "0"])
async def test_a_bad_reply_to_in_the_address_shows_the_page_without_a_bar(app, general, sign_in, query):
    shown = await (await (await sign_in("bob")).get(f"/chat/{general.id}?reply_to={query}")).get_data(as_text=True)
    assert '<p class="reply-bar" data-reply-bar hidden>' in shown


async def test_the_page_form_refuses_a_bad_reply_to_and_keeps_the_text(app, general, said, alice, sign_in):
    bobs = await sign_in("bob")
    async with app.app_context():
        await chat.delete(alice, said)
    response = await bobs.post(f"/chat/{general.id}/messages", {"body": "my words", "reply_to": str(said.id)})
    page_html = await response.get_data(as_text=True)
    assert response.status_code == 422 and replies.NOT_HERE in page_html and "my words</textarea>" in page_html
    response = await bobs.post(f"/chat/{general.id}/messages", {"body": "my words", "reply_to": "x"}, htmx=True)
    assert response.status_code == 422 and replies.NOT_A_MESSAGE in await response.get_data(as_text=True)


async def test_htmx_posts_a_reply_and_gets_the_message_with_its_quote(app, general, said, sign_in):
    response = await (await sign_in("bob")).post(f"/chat/{general.id}/messages",
                                                  {"body": "yes", "reply_to": str(said.id)}, htmx=True)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="reply-quote"' in html
    assert f'data-reply-quote="message-{said.id}"' in html


async def test_every_message_offers_reply_with_its_first_words(app, general, said, sign_in):
    shown = await (await (await sign_in("bob")).get(f"/chat/{general.id}")).get_data(as_text=True)
    link = re.search(rf'<a class="reply" href="[^"]*"\s+data-reply="{said.id}"[^>]*>', shown).group(0)
    assert f'href="/chat/{general.id}?reply_to={said.id}#conversation-{general.id}-body"' in link
    assert 'data-reply-name="alice"' in link and 'data-reply-excerpt="Lunch at the harbour at noon? Bring maps"' in link


async def test_rest_posts_a_reply_and_messages_carry_it(app, general, said, secret):
    api = await api_login(app, "bob")
    status, body, _ = await api.post(f"/api/v1/conversations/{general.id}/messages",
                                     {"text": "yes", "reply_to": said.id})
    assert status == 201 and body["data"]["reply_to"] == {
        "id": said.id, "seq": said.seq, "author": "alice", "excerpt": "Lunch at the harbour at noon? Bring maps",
        "deleted": False}
    _, listed, _ = await api.get(f"/api/v1/conversations/{general.id}/messages")
    assert [m["reply_to"] for m in listed["data"]["messages"]][:2] == [body["data"]["reply_to"], None]
    for bad in ("x", -1, 0, 2**64, 1.5, [said.id], secret[1].id):
        status, refused, _ = await api.post(f"/api/v1/conversations/{general.id}/messages",
                                            {"text": "x", "reply_to": bad})
        assert status == 422 and "reply_to" in refused["error"]["fields"], bad
        assert "1234" not in json.dumps(refused)
    status, _, _ = await Api(app).post(f"/api/v1/conversations/{general.id}/messages",
                                       {"text": "x", "reply_to": said.id})
    assert status == 401


async def test_the_json_socket_posts_a_reply(app, general, said):
    api = await api_login(app, "bob")
    async with json_socket(app) as program:
        await act(program, "auth", {"token": api.token})
        answer = await act(program, "send", {"conversation_id": general.id, "text": "yes", "reply_to": said.id})
        assert answer["data"]["reply_to"]["id"] == said.id
        for bad in ("x", -5, [said.id], 2**70):
            refused = await act(program, "send", {"conversation_id": general.id, "text": "no", "reply_to": bad})
            assert "reply_to" in refused["fields"], bad


async def test_the_messenger_api_posts_a_reply(app, general, said):
    client = Api(app)
    status, login, _ = await client.post(f"{M}/user/login", {"Username": "bob", "Password": PASSWORD})
    client.token = login["Data"]
    status, sent, _ = await client.post(f"{M}/message", {"ConversationId": general.id, "Message": "yes",
                                                         "ReplyTo": said.id})
    assert status == 201 and (await stored(sent["Data"]["MessageId"])).reply_to_id == said.id
    status, refused, _ = await client.post(f"{M}/message", {"ConversationId": general.id, "Message": "no",
                                                            "ReplyTo": "nope"})
    assert status == 422 and refused["Data"] is None


async def test_admins_reply_like_anyone_and_outsiders_cannot(app, general, said, secret, sign_in):
    room, hidden = secret
    admins = await sign_in("admin")
    response = await admins.post(f"/chat/{general.id}/messages", {"body": "noted", "reply_to": str(said.id)})
    assert response.status_code == 303
    refused = await admins.post(f"/chat/{room.id}/messages", {"body": "hi", "reply_to": str(hidden.id)})
    assert refused.status_code == 404 and "1234" not in await refused.get_data(as_text=True)
    shown = await (await admins.get(f"/chat/{general.id}?reply_to={hidden.id}")).get_data(as_text=True)
    assert "1234" not in shown and '<p class="reply-bar" data-reply-bar hidden>' in shown
    anonymous = await app.test_client().post(f"/chat/{general.id}/messages", form={"body": "x", "reply_to": said.id})
    assert anonymous.status_code in (302, 303, 401, 403)


# --- the same on PostgreSQL ---------------------------------------------------------------------------

async def test_replies_quote_renumber_and_replay_on_postgresql(pg_database, tmp_path):
    """The other dialect: the quote's plain SQL (app/chat/replies.py reply_lists), a bigint id past
    any message's refused as a 422 (not a database error), and a replay after an edit of the
    original giving each reply once, quoting the new words."""
    from app.chat.live import rooms
    from tests.helpers.accounts import make_user

    async with pg_site(pg_database, tmp_path):
        ada, bo = await make_user("ada"), await make_user("bo")
        general = await welcomed(ada, bo)
        said = await chat.post(ada, general, "Lunch _today_?")
        replies_ = [await chat.post(bo, general, f"yes {n}", reply_to=said.id) for n in range(3)]
        with pytest.raises(Invalid):
            await chat.post(bo, general, "no", reply_to=2**63 - 1)
        cursor = (await Conversation.get(id=general.id)).last_seq
        await chat.edit(ada, await stored(said.id), "Lunch tomorrow?")
        replay = await rooms.changes(f"conversation:{general.id}", cursor, 100)
        quoted = {e.data["id"]: e.data["reply_to"]["excerpt"] for e in replay if e.data.get("reply_to")}
        assert quoted == {r.id: "Lunch tomorrow?" for r in replies_}
        assert await Mention.filter(user_id=ada.id).count() == 3
