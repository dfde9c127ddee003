"""Threads' pages (app/chat/thread_routes.py): "Reply in thread" and a message's summary open its
thread, the side panel's fragment for htmx and a page of its own otherwise; replies post through
the ordinary composer with the thread's id; Follow/Unfollow; the "Threads" view (unread first) and
the sidebar's one "Threads" entry. Who may: whoever may read the parent conversation reads, its
members write; nobody else finds it (404), administrators included."""
from __future__ import annotations

import json
import re
from html import unescape

import pytest

from app.chat import service as chat
from app.chat import sidebar, threads
from app.models import Conversation, Membership, Message
from app.runtime import Runtime
from tests.helpers.chat import closed_room_with, lift_posting_limit, posted
from tests.helpers.live import barrier, page, receive, receive_until

HX = {"HX-Request": "true"}


@pytest.fixture
async def said(app, general, alice) -> Message:
    return await posted(app, alice, general, "who is up for lunch?")


@pytest.fixture
async def secret(app, alice):
    """A closed room of alice's, with one message in it."""
    return await closed_room_with(app, alice, "between us")


async def text(response) -> str:
    return await response.get_data(as_text=True)


# --- opening ----------------------------------------------------------------------------------------

async def test_anonymous_is_sent_to_log_in(client, said):
    for path in (f"/chat/messages/{said.id}/thread", "/chat/threads", "/chat/threads/1"):
        response = await client.get(path)
        assert response.status_code in (302, 401)


async def test_reply_in_thread_opens_a_page_of_its_own_without_a_script(app, said, sign_in):
    bobs = await sign_in("bob")
    response = await bobs.get(f"/chat/messages/{said.id}/thread")
    html = await text(response)
    assert response.status_code == 200 and "<html" in html and "HX-Request" in response.headers["Vary"]
    thread = await Conversation.get(parent_message_id=said.id)
    assert 'id="conversation"' in html and f'data-conversation="{thread.id}"' in html  # the page's conversation
    assert f'id="message-{said.id}"' in html and "who is up for lunch?" in html  # the parent on top
    assert f'action="/chat/{thread.id}/messages"' in html  # the ordinary composer, with the thread's id
    assert f'action="/chat/threads/{thread.id}/follow"' in html and ">Follow<" in html
    assert f'href="/chat/{said.conversation_id}/messages/{said.id}"' in html  # back to the room, at the message
    assert 'id="sidebar"' in html
    again = await bobs.get(f"/chat/messages/{said.id}/thread")  # opened again: the same thread
    assert again.status_code == 200 and await Conversation.filter(parent_message_id=said.id).count() == 1


async def test_with_htmx_it_is_the_panels_fragment(app, said, sign_in):
    bobs = await sign_in("bob")
    response = await bobs.get(f"/chat/messages/{said.id}/thread", headers=HX)
    html = await text(response)
    thread = await Conversation.get(parent_message_id=said.id)
    assert response.status_code == 200 and "<html" not in html and 'id="sidebar"' not in html
    assert f'data-thread="{thread.id}"' in html and f'data-seq="{thread.last_seq}"' in html
    assert f'data-parent="{said.id}"' in html and 'data-thread-close' in html
    assert 'id="conversation"' not in html  # beside the conversation, never a second one
    assert f'id="conversation-{thread.id}-messages"' in html  # where its live replies go


async def test_a_thread_is_found_by_its_own_id_too(app, said, sign_in, alice):
    async with app.app_context():
        thread = await threads.open_thread(alice, said.id)
    response = await (await sign_in("bob")).get(f"/chat/threads/{thread.id}")
    assert response.status_code == 200 and f'data-conversation="{thread.id}"' in await text(response)


async def test_a_closed_room_outsider_and_an_admin_find_nothing(app, secret, sign_in, alice, bob, admin):
    room, message = secret
    async with app.app_context():
        thread = await threads.open_thread(alice, message.id)
    for who in ("bob", "admin"):
        browser = await sign_in(who)
        for path in (f"/chat/messages/{message.id}/thread", f"/chat/threads/{thread.id}"):
            assert (await browser.get(path)).status_code == 404
            assert (await browser.get(path, headers=HX)).status_code == 404
        assert (await browser.post(f"/chat/threads/{thread.id}/follow", {"follow": "1"})).status_code == 404
        assert (await browser.post(f"/chat/{thread.id}/messages", {"body": "hi"})).status_code == 404
    assert await Message.filter(conversation_id=thread.id).count() == 0
    assert await Membership.filter(conversation_id=thread.id).count() == 0


@pytest.mark.parametrize("path", ["/chat/messages/999999/thread", "/chat/threads/999999", "/chat/threads/0",
                                  "/chat/messages/0/thread", "/chat/threads/2147483648"])
async def test_bad_ids_are_not_found(app, general, bob, sign_in, path):
    assert (await (await sign_in("bob")).get(path)).status_code == 404


async def test_a_room_is_not_a_thread(app, general, sign_in):
    assert (await (await sign_in("bob")).get(f"/chat/threads/{general.id}")).status_code == 404


async def test_a_deleted_message_has_no_thread_to_open(app, said, sign_in, alice):
    async with app.app_context():
        await chat.delete(alice, said)
    assert (await (await sign_in("bob")).get(f"/chat/messages/{said.id}/thread")).status_code == 404


async def test_no_thread_in_a_thread(app, said, sign_in, alice):
    async with app.app_context():
        thread = await threads.open_thread(alice, said.id)
        reply = await chat.post(alice, thread, "me!")
    response = await (await sign_in("bob")).get(f"/chat/messages/{reply.id}/thread")
    assert response.status_code == 422
    assert not await Conversation.filter(parent_message_id=reply.id).exists()


async def test_an_open_rooms_reader_reads_its_threads_without_a_composer(app, alice, bob, sign_in):
    async with app.app_context():
        room = await chat.create_room(alice, "lobby")
        message = await chat.post(alice, room, "welcome")
        thread = await threads.open_thread(alice, message.id)
        await chat.post(alice, thread, "first reply")
    bobs = await sign_in("bob")  # not in #lobby: reads it, does not write in it
    html = await text(await bobs.get(f"/chat/messages/{message.id}/thread"))
    assert "first reply" in html and f'action="/chat/{thread.id}/messages"' not in html
    assert "Join #lobby to reply" in html
    assert (await bobs.post(f"/chat/{thread.id}/messages", {"body": "sneaky"})).status_code == 404


# --- replying, following ----------------------------------------------------------------------------

async def test_a_reply_without_a_script_posts_and_comes_back_and_the_replier_follows(app, said, sign_in, bob):
    bobs = await sign_in("bob")
    await bobs.get(f"/chat/messages/{said.id}/thread")
    thread = await Conversation.get(parent_message_id=said.id)
    response = await bobs.post(f"/chat/{thread.id}/messages", {"body": "me too"})
    assert response.status_code == 303
    assert await Message.filter(conversation_id=thread.id, body="me too").exists()
    assert await Membership.filter(conversation_id=thread.id, user_id=bob.id).exists()
    html = await text(await bobs.get(f"/chat/messages/{said.id}/thread"))
    assert "me too" in html and ">Following<" in html


async def test_a_reply_with_htmx_answers_with_the_message(app, said, sign_in):
    bobs = await sign_in("bob")
    await bobs.get(f"/chat/messages/{said.id}/thread", headers=HX)
    thread = await Conversation.get(parent_message_id=said.id)
    response = await bobs.post(f"/chat/{thread.id}/messages", {"body": "count me in"}, htmx=True)
    reply = await Message.get(conversation_id=thread.id)
    assert response.status_code == 200 and f'id="message-{reply.id}"' in await text(response)


async def test_an_empty_reply_is_said_beside_the_box(app, said, sign_in):
    bobs = await sign_in("bob")
    await bobs.get(f"/chat/messages/{said.id}/thread")
    thread = await Conversation.get(parent_message_id=said.id)
    response = await bobs.post(f"/chat/{thread.id}/messages", {"body": "   "}, htmx=True)
    assert response.status_code == 422 and 'data-composer-error' in await text(response)


async def test_a_refused_reply_without_a_script_comes_back_on_the_threads_page_with_its_text(app, said, sign_in):
    """Nothing typed is lost: a reply too long, sent by a plain form, is the thread's page again,
    with the text in the box, the reason beside it and the reply bar it had."""
    bobs = await sign_in("bob")
    await bobs.get(f"/chat/messages/{said.id}/thread")
    thread = await Conversation.get(parent_message_id=said.id)
    first = await bobs.post(f"/chat/{thread.id}/messages", {"body": "first in the thread"})
    assert first.status_code == 303
    answered = await Message.get(conversation_id=thread.id)
    typed = "x" * (Message.MAX_LENGTH + 1)
    response = await bobs.post(f"/chat/{thread.id}/messages", {"body": typed, "reply_to": str(answered.id)})
    html = await text(response)
    assert response.status_code == 422 and "<html" in html
    assert f'data-conversation="{thread.id}"' in html and "who is up for lunch?" in html  # the thread's page
    assert typed in html and "Keep a message to" in html
    assert f'name="reply_to" value="{answered.id}"' in html  # the bar it had


async def test_reply_without_a_script_in_a_thread_shows_the_bar_on_the_threads_page(app, said, sign_in):
    bobs = await sign_in("bob")
    await bobs.get(f"/chat/messages/{said.id}/thread")
    thread = await Conversation.get(parent_message_id=said.id)
    await bobs.post(f"/chat/{thread.id}/messages", {"body": "first in the thread"})
    answered = await Message.get(conversation_id=thread.id)
    # The menu's Reply links to the conversation with ?reply_to=: a thread's is its own page.
    moved = await bobs.get(f"/chat/{thread.id}?reply_to={answered.id}")
    assert moved.status_code == 303
    assert moved.headers["Location"].endswith(f"/chat/threads/{thread.id}?reply_to={answered.id}")
    html = await text(await bobs.get(moved.headers["Location"]))
    assert f'name="reply_to" value="{answered.id}"' in html and "first in the thread" in html
    # One that names no message of this thread: no bar (never another conversation's words).
    html = await text(await bobs.get(f"/chat/threads/{thread.id}?reply_to={said.id}"))
    assert 'name="reply_to" value=""' in html


async def test_follow_and_unfollow_without_a_script_and_with_htmx(app, said, sign_in, bob, alice):
    async with app.app_context():
        thread = await threads.open_thread(alice, said.id)
    bobs = await sign_in("bob")
    response = await bobs.post(f"/chat/threads/{thread.id}/follow", {"follow": "1"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/chat/threads/{thread.id}")
    assert await Membership.filter(conversation_id=thread.id, user_id=bob.id).exists()
    response = await bobs.post(f"/chat/threads/{thread.id}/follow", {"follow": "0"}, htmx=True)
    html = await text(response)
    assert response.status_code == 200 and "<html" not in html and ">Follow<" in html
    assert "HX-Trigger" in response.headers  # a toast says so
    assert not await Membership.filter(conversation_id=thread.id, user_id=bob.id).exists()


# --- the summary, the Threads view, the sidebar ----------------------------------------------------

async def test_the_parent_shows_a_summary_linking_to_its_thread(app, said, general, sign_in, alice, bob):
    async with app.app_context():
        thread = await threads.open_thread(bob, said.id)
        await chat.post(bob, thread, "yes")
        await chat.post(alice, thread, "great")
    html = await text(await (await sign_in("bob")).get(f"/chat/{general.id}"))
    summary = re.search(r'<a class="thread-summary".*?</a>', html, re.S).group(0)
    assert f'href="/chat/messages/{said.id}/thread"' in summary and "2 replies" in summary
    assert "<time datetime=" in summary and "alice, bob" in summary
    assert 'data-thread-link>Reply in thread</a>' in html


async def test_the_threads_view_lists_followed_threads_unread_first(app, general, sign_in, alice, bob):
    async with app.app_context():
        first = await chat.post(alice, general, "first question")
        second = await chat.post(alice, general, "second question")
        read_thread = await threads.open_thread(bob, first.id)
        await chat.post(bob, read_thread, "answered")  # bob follows; nothing unread for him
        unread_thread = await threads.open_thread(bob, second.id)
        await chat.post(bob, unread_thread, "let me see")
        await chat.post(alice, unread_thread, "any news?")  # unread for bob
    html = await text(await (await sign_in("bob")).get("/chat/threads"))
    assert html.index("second question") < html.index("first question")
    assert f'href="/chat/messages/{second.id}/thread"' in html and "#general" in html
    entry = re.search(r'data-threads-unread data-count="(\d+)"', html)
    assert entry and entry.group(1) == "1"  # the sidebar's one "Threads" entry
    assert thread_counts(html) == {str(unread_thread.id): [1, 0]}  # only the thread with something unread
    sidebar_rooms = re.search(r"<h2>Rooms.*?</ul>", html, re.S).group(0)
    assert "question" not in sidebar_rooms and f"/chat/{unread_thread.id}\"" not in html  # threads are not rooms


def thread_counts(html: str, attribute: str = "data-thread-counts") -> dict:
    """The sidebar's "Threads" entry's per-thread counts (JSON: id -> [unread, mentions]), or the
    snapshot's (data-threads)."""
    found = re.search(rf' {attribute}="([^"]*)"', html)
    assert found, "the counts are carried"
    return json.loads(unescape(found.group(1)))


async def test_the_sidebar_carries_counts_only_for_threads_with_something_unread(app, general, sign_in, alice, bob):
    async with app.app_context():
        quiet_parent = await chat.post(alice, general, "a settled question")
        busy_parent = await chat.post(alice, general, "an open question")
        quiet = await threads.open_thread(bob, quiet_parent.id)
        await chat.post(bob, quiet, "settled")  # bob follows it; nothing unread there for him
        busy = await threads.open_thread(bob, busy_parent.id)
        await chat.post(bob, busy, "what do you think?")
        await chat.post(alice, busy, "not sure")
        await chat.post(alice, busy, "@bob what about you?")  # unread for bob, and a mention of him
    html = await text(await (await sign_in("bob")).get(f"/chat/{general.id}"))
    assert thread_counts(html) == {str(busy.id): [2, 1]}
    assert re.search(r'data-threads-unread data-count="2"', html)
    assert re.search(r'data-threads-mentions data-count="1"', html)
    for thread in (quiet, busy):  # no element of its own for a followed thread, read or not
        assert f'id="conversation-{thread.id}-' not in html
    # Read, it leaves the page: nothing per thread, the totals zero.
    async with app.app_context():
        await chat.mark_read(bob, await Conversation.get(id=busy.id))
    html = await text(await (await sign_in("bob")).get(f"/chat/{general.id}"))
    assert thread_counts(html) == {}
    assert 'data-threads-unread data-count="0"' in html and 'data-threads-mentions data-count="0"' in html


async def test_the_threads_view_with_none_says_so(app, general, sign_in):
    html = await text(await (await sign_in("bob")).get("/chat/threads"))
    assert "No threads yet" in html


# --- live -------------------------------------------------------------------------------------------

async def test_the_hellos_snapshot_carries_the_threads_counts_as_the_page_does(app, client, said, general, alice, bob):
    async with app.app_context():
        thread = await threads.open_thread(bob, said.id)
        await chat.post(bob, thread, "count me in")
        await chat.post(alice, thread, "@bob good")  # unread for bob, and a mention of him
    await client.login("bob")
    async with page(client, general) as socket:
        await socket.send(json.dumps({"type": "hello", "presence": []}))  # a reconnect's hello
        snapshot = await receive_until(socket, 'id="live-unread"')
    assert thread_counts(snapshot, "data-threads") == {str(thread.id): [1, 1]}
    assert 'data-threads-unread="1"' in snapshot and 'data-threads-mentions="1"' in snapshot


async def test_past_so_many_threads_with_unread_the_page_lists_the_most_unread_and_keeps_exact_totals(
        app, general, alice, bob, monkeypatch):
    monkeypatch.setattr(sidebar, "THREADS_LISTED", 1)
    async with app.app_context():
        made = []
        for n in (1, 2):
            parent = await chat.post(alice, general, f"question {n}")
            thread = await threads.open_thread(bob, parent.id)
            await chat.post(bob, thread, "me too")
            for _ in range(n):
                await chat.post(alice, thread, "more")
            made.append(thread)
        counts = await sidebar.thread_counts(await chat.unread_counts(bob), await chat.mention_counts_by_id(bob.id))
    assert counts == {"unread": 3, "mentions": 0, "listed": {str(made[1].id): [2, 0]}}

async def test_a_pages_panel_follows_the_thread_with_its_own_cursor(app, client, said, general, alice, bob):
    async with app.app_context():
        thread = await threads.open_thread(alice, said.id)
        early = await chat.post(alice, thread, "before the panel")
    await client.login("bob")  # no follower: hears the thread only while the panel shows it
    async with page(client, general) as socket:
        await socket.send(json.dumps({"type": "thread", "conversation": thread.id, "after": 0}))
        caught_up = await receive_until(socket, f'id="message-{early.id}"')  # from 0: what it had not
        assert f'beforeend:#conversation-{thread.id}-messages' in caught_up
        async with app.app_context():
            late = await chat.post(alice, thread, "while it is open")
        assert f'data-conversation="{thread.id}"' in await receive_until(socket, f'id="message-{late.id}"')
        await socket.send(json.dumps({"type": "thread", "conversation": None}))  # closed: no longer heard
        async with app.app_context():
            await chat.post(alice, thread, "after it closed")
            shown = await chat.post(alice, general, "in the room")
        got = []
        while f'id="message-{shown.id}"' not in (frame := await receive(socket)):
            got.append(frame)
        assert got and not any("after it closed" in frame for frame in got)  # the parent's new summary only


async def test_replying_from_the_panel_makes_a_follower_who_still_hears_it_once_closed(app, client, said, general,
                                                                                     alice, bob):
    async with app.app_context():
        thread = await threads.open_thread(alice, said.id)
    await client.login("bob")
    async with page(client, general) as socket:
        await socket.send(json.dumps({"type": "thread", "conversation": thread.id, "after": thread.last_seq}))
        async with app.app_context():
            mine = await chat.post(bob, thread, "count me in")  # bob follows it now
        await receive_until(socket, f'id="message-{mine.id}"')
        await socket.send(json.dumps({"type": "thread", "conversation": None}))
        async with app.app_context():
            later = await chat.post(alice, thread, "great, see you")
        assert f'data-conversation="{thread.id}"' in await receive_until(socket, f'id="message-{later.id}"')


async def test_a_thread_as_a_conversation_is_its_page(app, said, sign_in, alice):
    """Where a plain form's reply comes back to (chat.post → chat.show), and a reply's permalink."""
    async with app.app_context():
        thread = await threads.open_thread(alice, said.id)
        answer = await chat.post(alice, thread, "here")
    bobs = await sign_in("bob")
    for path in (f"/chat/{thread.id}", f"/chat/{thread.id}/messages/{answer.id}"):
        response = await bobs.get(path)
        assert response.status_code == 303 and response.headers["Location"].endswith(f"/chat/threads/{thread.id}")


async def test_a_long_thread_shows_its_newest_replies_and_pages_older_ones_like_a_conversation(app, said, sign_in,
                                                                                            alice):
    lift_posting_limit(app)
    async with app.app_context():
        thread = await threads.open_thread(alice, said.id)
        for n in range(60):
            await chat.post(alice, thread, f"reply number {n}")
    bobs = await sign_in("bob")
    html = await text(await bobs.get(f"/chat/messages/{said.id}/thread", headers=HX))
    assert "reply number 59" in html and "reply number 5<" not in html
    older = re.search(rf'hx-get="(/chat/{thread.id}/messages\?before=\d+)"', html).group(1)
    page_before = await text(await bobs.get(older, headers=HX))
    assert "reply number 5<" in page_before and "reply number 59" not in page_before


async def test_a_threads_panel_in_a_visible_tab_is_looked_at_so_its_follower_is_not_notified(app, client, said,
                                                                                           general, alice, bob):
    async with app.app_context():
        thread = await threads.open_thread(alice, said.id)
        await chat.post(bob, thread, "count me in")  # bob follows it
    viewing = Runtime.of(app).viewing
    await client.login("bob")
    async with page(client, general) as socket:
        await socket.send(json.dumps({"type": "viewing", "conversation": general.id, "visible": True}))
        await socket.send(json.dumps({"type": "thread", "conversation": thread.id, "after": thread.last_seq}))
        await barrier(socket)
        assert await viewing.watching(thread.id, [bob.id]) == {bob.id} == await viewing.watching(general.id, [bob.id])
        await socket.send(json.dumps({"type": "viewing", "conversation": general.id, "visible": False}))
        await barrier(socket)
        assert await viewing.watching(thread.id, [bob.id]) == set()  # a hidden tab looks at nothing
        await socket.send(json.dumps({"type": "viewing", "conversation": general.id, "visible": True}))
        await socket.send(json.dumps({"type": "thread", "conversation": None}))
        await barrier(socket)
        assert await viewing.watching(thread.id, [bob.id]) == set()  # the panel closed
        assert await viewing.watching(general.id, [bob.id]) == {bob.id}


async def test_a_direct_conversation_has_threads_too_for_its_members_only(app, alice, bob, admin, sign_in):
    async with app.app_context():
        direct = await chat.open_direct(alice, ["bob"])
        message = await chat.post(alice, direct, "a word between us")
    bobs = await sign_in("bob")
    html = await text(await bobs.get(f"/chat/messages/{message.id}/thread"))
    assert "a word between us" in html and "Thread in alice" in html
    thread = await Conversation.get(parent_message_id=message.id)
    assert (await bobs.post(f"/chat/{thread.id}/messages", {"body": "sure"})).status_code == 303
    assert (await (await sign_in("admin")).get(f"/chat/messages/{message.id}/thread")).status_code == 404
