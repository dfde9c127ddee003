"""The one live connection (app/realtime/connection.py) and its one cursor, seen from all three
socket kinds: a page (/live), a program (/api/v1/ws) and a messenger client. A new event kind
added in one place reaches all three; an answer comes before the events its request caused;
catch-up never repeats; limits and expiry hold the same on every kind."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app import clock
from app.chat import events as chat_events
from app.chat import service as chat
from app.models import Message, UserSession
from app.realtime.broker import Event
from app.runtime import Runtime
from tests.helpers import PASSWORD
from tests.helpers.api import act, api_login, frame_where, json_socket, messenger_socket, pushed
from tests.helpers.live import live, receive_until

M = "/api/messenger"


async def next_frame(socket, timeout: float = 3.0) -> dict:
    return await frame_where(socket, lambda f: True, timeout)


async def test_a_new_event_kind_reaches_pages_programs_and_messenger_clients(app, general, sign_in):
    """Published once, with its HTML and its data: nothing else to add for any socket kind."""
    alices = await sign_in("alice")
    api = await api_login(app, "alice")
    async with live(alices) as page, json_socket(app) as program, messenger_socket(app, api.token) as messenger:
        assert "data" in await act(program, "auth", {"token": api.token})
        async with app.app_context():
            await Runtime.of(app).broker.publish(Event(
                "reaction.added", chat_events.topic(general.id), html='<div id="reaction-poke">👍</div>',
                data={"conversation_id": general.id, "emoji": "👍"}))
        assert 'id="reaction-poke"' in await receive_until(page, "reaction-poke")
        got = await pushed(program, "reaction.added")
        assert got["data"] == {"conversation_id": general.id, "emoji": "👍"}
        got = await frame_where(messenger, lambda f: f.get("Message") == "reaction.added")
        assert got["Data"] == {"conversation_id": general.id, "emoji": "👍"}


async def test_a_message_reaches_all_three_kinds_once(app, general, sign_in):
    alices = await sign_in("alice")
    api = await api_login(app, "alice")
    async with live(alices) as page, json_socket(app) as program, messenger_socket(app, api.token) as messenger:
        await act(program, "auth", {"token": api.token})
        bob = await api_login(app, "bob")
        status, body, _ = await bob.post(f"/api/v1/conversations/{general.id}/messages", {"text": "to all kinds"})
        assert status == 201, body
        message_id = body["data"]["id"]
        assert f'message-{message_id}' in await receive_until(page, f"message-{message_id}")
        assert (await pushed(program, "message.created"))["data"]["text"] == "to all kinds"
        got = await frame_where(messenger, lambda f: f.get("Message") == "message.created")
        assert got["Data"]["id"] == message_id and got["Data"]["text"] == "to all kinds"


# --- an answer before the events it caused ----------------------------------------------------------

async def _sent(app, general, username="alice") -> int:
    async with app.app_context():
        author = await chat.User.get(username=username)
        return (await chat.post(author, general, "a message to act on")).id


ACTIONS = {
    # action → (data made from a context, the event kind the action causes on this very socket)
    "send": (lambda c: {"conversation_id": c["general"], "text": "hello"}, "message.created"),
    "edit": (lambda c: {"message_id": c["message"], "text": "changed"}, "message.edited"),
    "delete": (lambda c: {"message_id": c["message"]}, "message.deleted"),
    "read": (lambda c: {"conversation_id": c["general"], "seq": c["seq"]}, "unread"),
    "subscribe": (lambda c: {"conversations": {str(c["general"]): c["seq"]}}, None),
    "typing": (lambda c: {"conversation_id": c["general"], "state": "start"}, None),
    "me": (lambda c: {}, None),
    "conversations": (lambda c: {}, None),
    "details": (lambda c: {"username": "bob"}, None),
    "history": (lambda c: {"conversation_id": c["general"]}, None),
    "logout": (lambda c: {}, "logout"),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
async def test_each_json_action_is_answered_before_the_events_it_causes(app, general, action):
    message_id = await _sent(app, general)
    seq = (await Message.get(id=await _sent(app, general, "bob"))).seq  # unread for alice until she reads it
    context = {"general": general.id, "message": message_id, "seq": seq}
    async with json_socket(app) as socket:
        await act(socket, "login", {"username": "alice", "password": PASSWORD})
        await act(socket, "me")  # a barrier: presence of the login has been sent by now
        make, caused = ACTIONS[action]
        await socket.send(json.dumps({"action": action, "data": make(context)}))
        first = await next_frame(socket)
        assert first["action"] == action and "data" in first, first
        if caused:
            assert (await pushed(socket, caused))["action"] == caused


@pytest.mark.parametrize("action", ["login", "auth", "new"])
async def test_signing_in_is_answered_before_the_presence_it_causes(app, general, action):
    api = await api_login(app, "alice")
    data = {"login": {"username": "alice", "password": PASSWORD}, "auth": {"token": api.token},
            "new": {"username": "carol", "email": "carol@example.com", "password": PASSWORD}}[action]
    if action == "new":
        app.config["HUDDLE"].registration = "open"
    async with json_socket(app) as socket:
        await socket.send(json.dumps({"action": action, "data": data}))
        first = await next_frame(socket)
        assert first["action"] == action and "data" in first, first
        # and the presence it caused follows
        assert (await pushed(socket, "presence"))["data"]["online"]


# --- catch-up: no duplicate, no gap, in order -------------------------------------------------------

async def test_signing_in_with_cursors_catches_up_in_order_with_nothing_twice(app, general):
    """The way a program reconnects: auth and the conversations' last numbers in one step."""
    first = await _sent(app, general, "bob")
    seen = (await Message.get(id=first)).version_seq
    missed = [await _sent(app, general, "bob") for _ in range(3)]
    api = await api_login(app, "alice")
    async with json_socket(app) as socket:
        await socket.send(json.dumps({"action": "auth", "data": {
            "token": api.token, "conversations": {str(general.id): seen}}}))
        # Posted while the socket is catching up: it arrives once, in its place (in the replay
        # or live after the answer, whichever it raced).
        live_one = await _sent(app, general, "bob")
        ids = []
        while (frame := await next_frame(socket))["action"] != "auth":
            ids.append(frame["data"]["id"]) if frame["action"] == "message.created" else None
        assert frame["data"]["conversations"][str(general.id)]["last_seq"] >= (await Message.get(
            id=missed[-1])).version_seq
        if live_one not in ids:
            ids.append((await pushed(socket, "message.created"))["data"]["id"])
        await act(socket, "me")  # a barrier: nothing else came before it
        async with app.app_context():
            await chat_events.publish(Event("barrier", chat_events.topic(general.id), data={"x": 1}))
        while (frame := await next_frame(socket))["action"] != "barrier":
            ids.append(frame["data"]["id"]) if frame["action"] == "message.created" else None
        assert ids == [*missed, live_one]


async def test_a_message_pushed_before_subscribe_is_not_sent_again_by_its_replay(app, general):
    """The attack run's [4, 3, 4]: an event pushed between auth and subscribe, then replayed."""
    first = await _sent(app, general, "bob")
    seen = (await Message.get(id=first)).version_seq
    missed = await _sent(app, general, "bob")
    async with json_socket(app) as socket:
        await act(socket, "login", {"username": "alice", "password": PASSWORD})
        pushed_early = await _sent(app, general, "bob")
        assert (await pushed(socket, "message.created"))["data"]["id"] == pushed_early
        await socket.send(json.dumps({"action": "subscribe", "data": {"conversations": {str(general.id): seen}}}))
        ids = []
        while (frame := await next_frame(socket))["action"] != "subscribe":
            if frame["action"] == "message.created":
                ids.append(frame["data"]["id"])
        assert ids == [missed]  # the one it lacked, and not the one it already has
        later = await _sent(app, general, "bob")
        assert (await pushed(socket, "message.created"))["data"]["id"] == later


# --- limits and expiry, the same on every kind ------------------------------------------------------

async def test_an_expired_token_cannot_act_on_an_open_socket(app, general, monkeypatch):
    """Its expiry is known since authentication: compared on every action, no 60 s wait."""
    api = await api_login(app, "alice")
    async with json_socket(app) as socket:
        await act(socket, "auth", {"token": api.token})
        max_age = app.config["HUDDLE"].session_max_age_seconds
        later = clock.now() + timedelta(seconds=max_age + 1)
        monkeypatch.setattr(clock, "now", lambda: later)
        await socket.send(json.dumps({"action": "send", "data": {"conversation_id": general.id, "text": "late"}}))
        assert (await pushed(socket, "logout"))["data"]["reason"] == "expired"
    assert not await Message.filter(body="late").exists()
    assert not await UserSession.filter(kind="api").exists()


async def test_alternating_typing_start_and_stop_is_still_once_a_second(app, general, monkeypatch):
    """Per person and conversation, whatever the order of the signals."""
    moment = [1000.0]
    monkeypatch.setattr(clock, "monotonic", lambda: moment[0])
    async with json_socket(app) as alice, json_socket(app) as bob:
        await act(alice, "login", {"username": "alice", "password": PASSWORD})
        await act(bob, "login", {"username": "bob", "password": PASSWORD})
        await act(alice, "me")
        for _ in range(12):  # 24 frames: within the socket's flood allowance
            await act(alice, "typing", {"conversation_id": general.id, "state": "start"})
            await act(alice, "typing", {"conversation_id": general.id, "state": "stop"})
        moment[0] += 1.0
        await act(alice, "typing", {"conversation_id": general.id, "state": "start"})
        heard = []
        async with app.app_context():
            await chat_events.publish(Event("barrier", chat_events.topic(general.id), data={"x": 1}))
        while (frame := await next_frame(bob))["action"] != "barrier":
            if frame["action"] == "typing":
                heard.append(frame["data"]["state"])
        assert heard == ["start", "stop", "start"]


# --- numbers no socket may choke on ------------------------------------------------------------------

@pytest.mark.parametrize("key", ["²", "٣", "１", str(2**31), "9" * 40, "-1", "0"])
async def test_a_subscribe_key_that_is_not_a_conversation_id_is_a_clear_error(app, general, key):
    async with json_socket(app) as socket:
        await act(socket, "login", {"username": "alice", "password": PASSWORD})
        answer = await act(socket, "subscribe", {"conversations": {key: 0}})
        assert "conversations" in answer["fields"]
        assert "data" in await act(socket, "me")  # and the socket carries on


@pytest.mark.parametrize("after", [10**30, -1, 2**63, "1", 1.5, True])
async def test_a_page_hello_with_numbers_out_of_range_is_ignored_and_the_socket_lives(app, general, sign_in, after):
    alices = await sign_in("alice")
    async with live(alices) as page:
        await page.send(json.dumps({"type": "hello", "conversation": general.id, "after": after,
                                    "presence": [10**30, -5, "x"]}))
        assert 'data-snapshot' in await receive_until(page, 'id="live-presence" data-snapshot')
        message_id = await _sent(app, general, "bob")
        assert f"message-{message_id}" in await receive_until(page, f"message-{message_id}")


@pytest.mark.parametrize("value", ["²", "٣", str(2**31), "9" * 30])
async def test_messenger_ids_that_are_not_numbers_it_can_hold_are_422(app, general, value):
    from tests.helpers.api import Api

    api = await api_login(app, "alice")
    messenger = Api(app, api.token)
    status, body, _ = await messenger.post(f"{M}/message", {"ConversationId": value, "Message": "hi"})
    assert status == 422 and body["Data"] is None and "ConversationId" in body["Message"]
