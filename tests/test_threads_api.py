"""Threads for programs (REST and the JSON websocket) and catching up on a thread: every route by
role and bad input, and a page or program that was away gets exactly what changed in the thread
and on its parent's summary (tests/test_threads.py has the rules)."""
from __future__ import annotations

import json

import pytest

from app.chat import service as chat
from app.chat import threads
from app.models import Conversation, Message
from tests.helpers.api import Api, act, api_login, json_socket, pushed
from tests.helpers.chat import closed_room_with, lift_posting_limit, posted
from tests.helpers.live import barrier, page


@pytest.fixture
async def said(app, general, alice) -> Message:
    lift_posting_limit(app)
    return await posted(app, alice, general, "lunch?")


@pytest.fixture
async def secret(app, general, alice) -> Message:
    """alice's message in her closed room (bob and the admin are not in it)."""
    return (await closed_room_with(app, alice, "plans", name="leads"))[1]


# --- REST -----------------------------------------------------------------------------------------

async def test_opening_a_thread_gives_a_conversation_to_post_and_read_in(app, said, general, alice, bob):
    api = await api_login(app, "bob")
    status, body, _ = await api.post(f"/api/v1/messages/{said.id}/thread")
    assert status == 200
    thread = body["data"]
    assert thread["kind"] == "thread" and thread["parent_message_id"] == said.id and thread["parent_id"] == general.id
    status, again, _ = await api.post(f"/api/v1/messages/{said.id}/thread")
    assert again["data"]["id"] == thread["id"]
    status, posted, _ = await api.post(f"/api/v1/conversations/{thread['id']}/messages", {"text": "yes"})
    assert status == 201 and posted["data"]["conversation_id"] == thread["id"]
    status, page_, _ = await api.get(f"/api/v1/conversations/{thread['id']}/messages")
    assert status == 200 and [m["text"] for m in page_["data"]["messages"]] == ["yes"]
    status, parent, _ = await api.get(f"/api/v1/conversations/{general.id}/messages")
    summary = next(m for m in parent["data"]["messages"] if m["id"] == said.id)["thread"]
    assert summary["conversation_id"] == thread["id"] and summary["replies"] == 1 and summary["repliers"] == ["bob"]
    status, one, _ = await api.get(f"/api/v1/conversations/{thread['id']}")
    assert status == 200 and one["data"]["kind"] == "thread" and one["data"]["read_seq"] == 1


async def test_the_threads_list_has_unread_ones_first_and_follow_toggles(app, general, alice, bob, admin):
    async with app.app_context():
        first = await chat.post(alice, general, "first")
        second = await chat.post(alice, general, "second")
        for message in (first, second):
            await chat.post(bob, await threads.open_thread(bob, message.id), "reply")
        first_thread = await threads.open_thread(bob, first.id)
        await chat.mark_read(alice, await Conversation.get(id=first_thread.id))
    api = await api_login(app, "alice")
    status, body, _ = await api.get("/api/v1/threads")
    assert status == 200
    assert [(t["message"]["id"], t["unread"]) for t in body["data"]] == [(second.id, 1), (first.id, 0)]
    assert body["data"][0]["conversation"]["kind"] == "thread"
    admins = await api_login(app, "admin")
    status, followed, _ = await admins.put(f"/api/v1/threads/{first_thread.id}/follow")
    assert status == 200 and followed["data"]["read_seq"] == 1
    status, listed, _ = await admins.get("/api/v1/threads")
    assert [t["conversation"]["id"] for t in listed["data"]] == [first_thread.id]
    status, stopped, _ = await admins.delete(f"/api/v1/threads/{first_thread.id}/follow")
    assert status == 200 and stopped["data"]["read_seq"] == 0
    assert (await admins.get("/api/v1/threads"))[1]["data"] == []


ROUTES = [("POST", "/api/v1/messages/{message}/thread"), ("GET", "/api/v1/threads"),
          ("PUT", "/api/v1/threads/{thread}/follow"), ("DELETE", "/api/v1/threads/{thread}/follow")]


@pytest.mark.parametrize("method, path", ROUTES)
async def test_nobody_signed_in_gets_401(app, said, method, path):
    async with app.app_context():
        thread = await threads.open_thread(await said.author, said.id)
    status, body, _ = await Api(app).call(method, path.format(message=said.id, thread=thread.id))
    assert status == 401 and body["error"]


@pytest.mark.parametrize("who", ["bob", "admin"])
async def test_a_closed_rooms_thread_is_404_to_outsiders_administrators_included(app, secret, alice, who):
    async with app.app_context():
        thread = await threads.open_thread(alice, secret.id)
    api = await api_login(app, who)
    for method, path in (("POST", f"/api/v1/messages/{secret.id}/thread"),
                         ("PUT", f"/api/v1/threads/{thread.id}/follow"),
                         ("DELETE", f"/api/v1/threads/{thread.id}/follow"),
                         ("GET", f"/api/v1/conversations/{thread.id}/messages"),
                         ("POST", f"/api/v1/conversations/{thread.id}/read")):
        status, body, _ = await api.call(method, path)
        assert status == 404, (method, path, body)
    status, body, _ = await api.post(f"/api/v1/conversations/{thread.id}/messages", {"text": "hi"})
    assert status == 404
    assert (await api.get("/api/v1/threads"))[1]["data"] == []


@pytest.mark.parametrize("path", ["/api/v1/messages/{x}/thread", "/api/v1/threads/{x}/follow"])
@pytest.mark.parametrize("x", ["abc", "-1", "0", "1.5", str(2**31), str(2**63), str(10**30), "%00"])
async def test_bad_ids_are_404_or_422_never_500(app, alice, path, x):
    api = await api_login(app, "alice")
    method = "POST" if path.endswith("thread") else "PUT"
    status, body, _ = await api.call(method, path.format(x=x))
    assert status in (404, 422), (x, status, body)


async def test_a_message_that_is_not_a_thread_is_no_thread_to_follow(app, said, general, alice):
    api = await api_login(app, "alice")
    for conversation_id in (general.id, 999_999):
        status, _, _ = await api.put(f"/api/v1/threads/{conversation_id}/follow")
        assert status == 404


async def test_threads_limit_is_checked(app, alice):
    api = await api_login(app, "alice")
    for limit in ("0", "101", "x"):
        status, body, _ = await api.get("/api/v1/threads", query_string={"limit": limit})
        assert status == 422, body


# --- the JSON websocket ---------------------------------------------------------------------------

async def test_the_socket_opens_posts_in_lists_and_follows_threads(app, said, general, alice, bob, secret):
    api = await api_login(app, "bob")
    async with json_socket(app) as socket:
        await act(socket, "auth", {"token": api.token})
        opened = await act(socket, "open_thread", {"message_id": said.id})
        thread_id = opened["data"]["id"]
        assert opened["data"]["kind"] == "thread" and opened["data"]["parent_message_id"] == said.id
        sent = await act(socket, "send", {"conversation_id": thread_id, "text": "yes"})
        assert sent["data"]["conversation_id"] == thread_id
        listed = await act(socket, "threads")
        assert [t["conversation"]["id"] for t in listed["data"]] == [thread_id]
        stopped = await act(socket, "follow_thread", {"conversation_id": thread_id, "follow": False})
        assert stopped["data"]["read_seq"] == 0
        assert (await act(socket, "threads"))["data"] == []
        for data in ({"message_id": secret.id}, {"message_id": "1"}, {"message_id": 2**40}, {}, {"message_id": True}):
            refused = await act(socket, "open_thread", data)
            assert "error" in refused, data
        refused = await act(socket, "open_thread", {"message_id": sent["data"]["id"]})
        assert refused["fields"] == {"message": threads.NO_THREAD_IN_THREAD}
        refused = await act(socket, "follow_thread", {"conversation_id": thread_id, "follow": "yes"})
        assert "follow" in refused["fields"]
    async with json_socket(app) as anonymous:
        refused = await act(anonymous, "open_thread", {"message_id": said.id})
        assert "error" in refused


# --- catching up ----------------------------------------------------------------------------------

async def test_a_page_with_a_cursor_on_the_thread_gets_exactly_what_changed_after_it(app, client, said, alice, bob):
    async with app.app_context():
        thread = await threads.open_thread(bob, said.id)
        kept = await chat.post(bob, thread, "kept")
        edited = await chat.post(bob, thread, "to be edited")
    cursor = (await Conversation.get(id=thread.id)).last_seq
    async with app.app_context():  # while alice's panel is away
        await chat.edit(bob, await Message.get(id=edited.id), "edited")
        gone = await chat.post(bob, thread, "posted and deleted")
        await chat.delete(bob, await Message.get(id=gone.id))
        new = await chat.post(bob, thread, "new")
    await client.login("alice")
    async with page(client, await Conversation.get(id=thread.id), after=cursor) as panel:
        text = "".join(panel.replay)
        assert f'id="message-{edited.id}"' in text and "edited" in text and f'id="message-{new.id}"' in text
        assert f'id="message-{kept.id}"' not in text and "posted and deleted" not in text
        async with app.app_context():
            later = await chat.post(bob, await Conversation.get(id=thread.id), "live")
        live = "".join(await barrier(panel))
        assert f'id="message-{later.id}"' in live


async def test_a_page_that_does_not_follow_the_thread_may_still_follow_its_topic(app, client, said, alice, bob,
                                                                                admin):
    async with app.app_context():
        thread = await threads.open_thread(bob, said.id)
        await chat.post(bob, thread, "one")
    await client.login("admin")  # a member of #general, not following the thread
    async with page(client, await Conversation.get(id=thread.id), after=0) as panel:
        assert "one" in "".join(panel.replay)


async def test_a_program_catches_up_on_the_parents_summary_and_the_replies(app, said, general, alice, bob):
    api = await api_login(app, "alice")
    cursor = (await Conversation.get(id=general.id)).last_seq
    async with app.app_context():
        thread = await threads.open_thread(bob, said.id)
        await chat.post(bob, thread, "one")
        await chat.post(bob, thread, "two")
    async with json_socket(app) as socket:
        await act(socket, "auth", {"token": api.token})
        await socket.send(json.dumps({"action": "subscribe", "data": {"conversations": {
            str(general.id): cursor, str(thread.id): 0}}}))
        edited = await pushed(socket, "message.edited")
        assert edited["data"]["id"] == said.id and edited["data"]["thread"]["replies"] == 2
        created = [await pushed(socket, "message.created") for _ in range(2)]
        assert [c["data"]["text"] for c in created] == ["one", "two"]
        answer = await pushed(socket, "subscribe")
        assert answer["data"]["conversations"][str(thread.id)]["last_seq"] == 2
        async with app.app_context():
            await chat.post(bob, await Conversation.get(id=thread.id), "three")
        live = await pushed(socket, "message.created")
        assert live["data"]["text"] == "three" and live["data"]["conversation_id"] == thread.id
        summary = await pushed(socket, "message.edited")
        assert summary["data"]["id"] == said.id and summary["data"]["thread"]["replies"] == 3


async def test_a_follower_chooses_what_they_hear_of_a_thread_others_cannot(app, said, alice, bob, admin):
    async with app.app_context():
        thread = await threads.open_thread(bob, said.id)
        await chat.post(bob, thread, "yes")  # bob replied, alice wrote the message: both follow
    alices = await api_login(app, "alice")
    status, body, _ = await alices.get(f"/api/v1/conversations/{thread.id}/notifications")
    assert status == 200 and body["data"] == {"level": "all", "default": True}
    status, body, _ = await alices.put(f"/api/v1/conversations/{thread.id}/notifications", {"level": "nothing"})
    assert status == 200 and body["data"]["level"] == "nothing"
    admins = await api_login(app, "admin")  # in #general, not following the thread
    status, body, _ = await admins.put(f"/api/v1/conversations/{thread.id}/notifications", {"level": "all"})
    assert status == 404
    status, body, _ = await admins.post(f"/api/v1/conversations/{thread.id}/read")
    assert status == 200 and body["data"]["read_seq"] == 0  # reading it keeps nothing for a non-follower


async def test_the_api_documents_say_how_programs_use_threads_and_replies(app, client):
    """The OpenAPI document and /docs/api (the JSON websocket's table) describe threads and replies."""
    _, document, _ = await Api(app).get("/api/v1/openapi.json")
    assert document["paths"]["/api/v1/messages/{message_id}/thread"]["post"]["operationId"] == "openThread"
    assert document["paths"]["/api/v1/threads"]["get"]["operationId"] == "listThreads"
    assert {"thread", "reply_to"} <= set(document["components"]["schemas"]["Message"]["properties"])
    assert "reply_to" in document["components"]["schemas"]["NewMessage"]["properties"]
    html = await (await client.get("/docs/api")).get_data(as_text=True)
    for action in ("open_thread", "threads", "follow_thread"):
        assert f"<tr><td><code>{action}</code></td>" in html
    assert "reply_to?" in html
