"""The JSON websocket, /api/v1/ws: every action with good and bad input and the wrong user; the
pushed events; catch-up by event number; the unauthenticated deadline; abuse; revocation."""
from __future__ import annotations

import asyncio
import json

import pytest
from quart.testing import WebsocketResponseError
from quart.testing.connections import WebsocketDisconnectError

from app.api import program_socket
from app.chat import service as chat
from app.models import Message, UserSession
from app.realtime import connection, serving
from app.runtime import Runtime
from tests.helpers import PASSWORD
from tests.helpers.api import act, api_login, frame_where, json_socket, pushed
from tests.helpers.live import live, receive_until


async def signed_in(app, socket, username: str) -> dict:
    answer = await act(socket, "login", {"username": username, "password": PASSWORD})
    assert "data" in answer, answer
    return answer["data"]


async def closes_with(socket, timeout: float = 3.0) -> int:
    with pytest.raises(WebsocketDisconnectError) as closed:
        async with asyncio.timeout(timeout):
            while True:
                await socket.receive()
    return closed.value.args[0]


async def quiet(socket) -> None:
    """A barrier: everything sent before this has been answered."""
    await act(socket, "me")


# --- authenticating ------------------------------------------------------------------------------

@pytest.mark.parametrize("action", ["me", "details", "conversations", "send", "edit", "delete", "typing", "read",
                                    "history", "subscribe", "logout"])
async def test_an_unauthenticated_socket_may_only_authenticate(app, general, action):
    async with json_socket(app) as socket:
        answer = await act(socket, action, {"conversation_id": general.id, "text": "hi"})
        assert answer == {"action": action, "error": "Authenticate first: new, login or auth."}
    assert await Message.all().count() == 0


async def test_login_authenticates_the_socket_and_answers_with_a_token(app, general, alice):
    async with json_socket(app) as socket:
        data = await signed_in(app, socket, "alice")
        assert data["user"]["username"] == "alice" and data["token"]
        assert (await act(socket, "me"))["data"]["email"] == "alice@example.com"
        assert (await act(socket, "login", {"username": "alice", "password": PASSWORD}))["error"]
    assert await UserSession.filter(user_id=alice.id, kind="api").count() == 1


@pytest.mark.parametrize("data, field", [
    ({"username": "alice", "password": "wrong password!"}, "form"), ({"username": "alice"}, "password"),
    ({"password": PASSWORD}, "username"), ({"username": 7, "password": PASSWORD}, "username"),
])
async def test_a_bad_login_is_an_error_answer_and_the_socket_stays_open(app, alice, data, field):
    async with json_socket(app) as socket:
        answer = await act(socket, "login", data)
        assert answer["action"] == "login" and answer["error"] and field in answer["fields"]
        assert "data" in await act(socket, "login", {"username": "alice", "password": PASSWORD})


async def test_auth_with_a_token_from_rest(app, general, alice):
    api = await api_login(app, "alice")
    async with json_socket(app) as socket:
        assert (await act(socket, "auth", {"token": api.token}))["data"]["user"]["username"] == "alice"


@pytest.mark.parametrize("token", [None, "", "nonsense", 12, "a.b.c"])
async def test_auth_with_a_bad_token_is_refused(app, alice, token):
    async with json_socket(app) as socket:
        answer = await act(socket, "auth", {"token": token})
        assert answer["error"] and "token" in answer["fields"]
        assert (await act(socket, "me"))["error"]


async def test_new_registers_and_authenticates(app, general):
    async with json_socket(app) as socket:
        answer = await act(socket, "new", {"username": "dana", "email": "dana@example.com", "password": PASSWORD})
        assert answer["data"]["user"]["username"] == "dana"
        assert (await act(socket, "me"))["data"]["username"] == "dana"
        refused = await act(socket, "new", {"username": "erin", "email": "erin@example.com", "password": PASSWORD})
        assert refused["error"] == "This socket is already authenticated."


async def test_new_with_bad_values_says_which(app, alice):
    async with json_socket(app) as socket:
        answer = await act(socket, "new", {"username": "alice", "email": "x@example.com", "password": "short"})
        assert set(answer["fields"]) == {"username", "password"}


async def test_an_unauthenticated_socket_is_closed_after_the_deadline(app, monkeypatch):
    monkeypatch.setattr(program_socket, "AUTH_SECONDS", 0.3)
    async with json_socket(app) as socket:
        assert await closes_with(socket) == 1008


async def test_an_authenticated_socket_outlives_the_deadline(app, alice, monkeypatch):
    monkeypatch.setattr(program_socket, "AUTH_SECONDS", 0.3)
    async with json_socket(app) as socket:
        await signed_in(app, socket, "alice")
        await asyncio.sleep(0.5)  # past the deadline (not a speed assertion: it must still be open)
        assert (await act(socket, "me"))["data"]["username"] == "alice"


@pytest.mark.parametrize("origin, allowed", [(None, True), ("http://localhost", True),
                                             ("https://evil.example", False), ("null", False)])
async def test_a_socket_that_sends_an_origin_must_be_same_origin(app, origin, allowed):
    headers = {"Origin": origin} if origin else {}
    if allowed:
        async with json_socket(app, headers) as socket:
            assert (await act(socket, "me"))["error"]
    else:
        with pytest.raises(WebsocketResponseError) as refused:
            async with json_socket(app, headers) as socket:
                await socket.receive()
        assert refused.value.response.status_code == 403


async def test_a_cookie_does_not_authenticate_the_socket(app, client, alice):
    await client.login("alice")
    async with client.raw.websocket("/api/v1/ws") as socket:
        await socket.send(json.dumps({"action": "me"}))
        assert (await frame_where(socket, lambda f: f.get("action") == "me"))["error"]


# --- malformed input and abuse -------------------------------------------------------------------------

@pytest.mark.parametrize("frame, action", [
    ("{not json", None), ("[" * 15_000, None), ("[1, 2]", None), ('"me"', None), ('{"data": {}}', None),
    ('{"action": 5}', None),
    ('{"action": "fly"}', "fly"), ('{"action": "me", "data": [1]}', "me"), ('{"action": "__init__"}', "__init__"),
    ('{"action": "send", "data": {"conversation_id": "1", "text": "x"}}', "send"),
    ('{"action": "send", "data": {"conversation_id": true, "text": "x"}}', "send"),
    ('{"action": "send", "data": {"conversation_id": 99999999999999999999, "text": "x"}}', "send"),
    ('{"action": "history", "data": {"conversation_id": 1, "limit": 1000}}', "history"),
    ('{"action": "subscribe", "data": {"conversations": [1]}}', "subscribe"),
    ('{"action": "subscribe", "data": {"conversations": {"x": 1}}}', "subscribe"),
    ('{"action": "read", "data": {"conversation_id": 1, "seq": -1}}', "read"),
])
async def test_bad_frames_get_an_error_answer_and_the_socket_stays(app, general, frame, action):
    async with json_socket(app) as socket:
        await signed_in(app, socket, "alice")
        await socket.send(frame)
        answer = await frame_where(socket, lambda f: "error" in f)
        assert answer["action"] == action and answer["error"]
        assert (await act(socket, "me"))["data"]["username"] == "alice"
    assert await Message.all().count() == 0


async def test_an_oversized_frame_closes_with_1009(app, alice):
    async with json_socket(app) as socket:
        await signed_in(app, socket, "alice")
        await socket.send(json.dumps({"action": "me", "data": {"pad": "x" * 20_000}}))
        assert await closes_with(socket) == 1009


async def test_a_flood_closes_with_1008(app, alice):
    async with json_socket(app) as socket:
        await signed_in(app, socket, "alice")
        for _ in range(200):
            await socket.send('{"action": "fly"}')
        assert await closes_with(socket) == 1008


async def test_a_failing_action_is_an_error_answer_not_a_dead_socket(app, alice, monkeypatch, caplog):
    from app.api import operations

    async def broken(user):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(operations, "me", broken)
    token = (await api_login(app, "alice")).token
    async with json_socket(app) as socket:
        await act(socket, "auth", {"token": token})
        answer = await act(socket, "me")
        assert answer == {"action": "me", "error": "An unexpected error happened on our side."}
        assert (await act(socket, "details", {"username": "alice"}))["data"]["username"] == "alice"
    assert "secret internals" in caplog.text


# --- chat over the socket ---------------------------------------------------------------------------

async def test_a_message_sent_is_answered_and_pushed_once_to_each_member(app, general, sign_in):
    browser = await sign_in("admin")
    async with live(browser) as page, json_socket(app) as alice, json_socket(app) as bob:
        await signed_in(app, alice, "alice")
        await signed_in(app, bob, "bob")
        answer = await act(alice, "send", {"conversation_id": general.id, "text": "hi <there>", "client_id": "c1"})
        message = answer["data"]
        assert message["text"] == "hi <there>" and message["author"] == "alice"
        got = await pushed(bob, "message.created")
        assert got["data"] == message
        assert "hi &lt;there&gt;" in await receive_until(page, f"message-{message['id']}")
        edited = (await act(alice, "edit", {"message_id": message["id"], "text": "edited"}))["data"]
        assert (await pushed(bob, "message.edited"))["data"]["text"] == "edited" == edited["text"]
        await act(alice, "delete", {"message_id": message["id"]})
        assert (await pushed(bob, "message.deleted"))["data"]["deleted"] is True


async def test_each_event_is_serialized_once_whoever_receives_it(app, general, monkeypatch):
    """Per-recipient work on the fan-out path is nil: the frame is made with the event."""
    import app.realtime.broker as broker_module

    calls = []
    real = broker_module.json.dumps
    monkeypatch.setattr(broker_module.json, "dumps", lambda *a, **k: calls.append(1) or real(*a, **k))
    sockets = [json_socket(app) for _ in range(3)]
    opened = [await s.__aenter__() for s in sockets]
    try:
        for socket, name in zip(opened, ["alice", "bob", "admin"], strict=True):
            await signed_in(app, socket, name)
        calls.clear()
        async with app.app_context():
            alice = await chat.User.get(username="alice")
            await chat.post(alice, general, "to everyone")
        for socket in opened:
            await pushed(socket, "message.created")
        assert len(calls) == 1
    finally:
        for socket in sockets:
            await socket.__aexit__(None, None, None)


@pytest.mark.parametrize("action, data", [
    ("send", {"text": "let me in"}), ("read", {}), ("history", {}), ("typing", {"state": "start"}),
])
async def test_what_is_not_mine_is_an_error(app, alice, general, action, data):
    async with app.app_context():
        room = await chat.create_room(alice, "closed", is_open=False)
    async with json_socket(app) as socket:
        await signed_in(app, socket, "bob")
        answer = await act(socket, action, {"conversation_id": room.id, **data})
        assert answer["error"]
    assert await Message.all().count() == 0


async def test_only_the_author_edits_and_the_author_or_an_admin_deletes(app, general, alice):
    async with app.app_context():
        message = await chat.post(alice, general, "mine")
    async with json_socket(app) as bob, json_socket(app) as admin:
        await signed_in(app, bob, "bob")
        await signed_in(app, admin, "admin")
        assert (await act(bob, "edit", {"message_id": message.id, "text": "no"}))["error"]
        assert (await act(admin, "edit", {"message_id": message.id, "text": "no"}))["error"]
        assert (await act(bob, "delete", {"message_id": message.id}))["error"]
        assert (await act(admin, "delete", {"message_id": message.id}))["data"]["deleted"] is True
        assert (await act(admin, "delete", {"message_id": message.id}))["error"]


async def test_posting_fast_is_limited(app, general):
    from app.web.throttle import MemoryLimiter

    Runtime.of(app).limiters.post_user = MemoryLimiter(2, 10)
    async with json_socket(app) as socket:
        await signed_in(app, socket, "alice")
        for n in range(2):
            assert "data" in await act(socket, "send", {"conversation_id": general.id, "text": f"n{n}"})
        answer = await act(socket, "send", {"conversation_id": general.id, "text": "too fast"})
        assert answer["error"] and answer["retry_after"] > 0


async def test_typing_reaches_the_others_not_the_typist(app, general, sign_in):
    browser = await sign_in("admin")
    async with live(browser) as page, json_socket(app) as bob:
        await signed_in(app, bob, "bob")
        async with json_socket(app) as alice:
            await signed_in(app, alice, "alice")
            answer = await act(alice, "typing", {"conversation_id": general.id, "state": "start"})
            assert answer["data"] == {"conversation_id": general.id, "state": "start"}
            got = await pushed(bob, "typing")
            assert got["data"]["user"] == "alice" and got["data"]["state"] == "start"
            assert "alice" in await receive_until(page, "live-typing")
            frames = []
            await alice.send(json.dumps({"action": "me"}))
            while (frame := json.loads(await alice.receive()))["action"] != "me":
                frames.append(frame["action"])
            assert "typing" not in frames  # her own hint does not come back to her
        got = await pushed(bob, "typing")  # her socket closed while typing: she stopped, for everyone
        assert got["data"]["state"] == "stop"


async def test_reading_is_answered_and_pushed_as_unread_to_my_other_sockets(app, general, bob):
    async with app.app_context():
        for n in range(3):
            await chat.post(bob, general, f"n{n}")
    async with json_socket(app) as phone, json_socket(app) as laptop:
        await signed_in(app, phone, "alice")
        await signed_in(app, laptop, "alice")
        answer = await act(phone, "read", {"conversation_id": general.id})
        assert answer["data"]["unread"] == 0
        got = await pushed(laptop, "unread")
        assert got["data"] == {"conversation_id": general.id, "read_seq": answer["data"]["read_seq"], "unread": 0}


async def test_history_pages_like_rest(app, general, bob):
    async with app.app_context():
        for n in range(5):
            await chat.post(bob, general, f"n{n}")
    async with json_socket(app) as socket:
        await signed_in(app, socket, "alice")
        page = (await act(socket, "history", {"conversation_id": general.id, "limit": 2}))["data"]
        assert [m["text"] for m in page["messages"]] == ["n4", "n3"]
        older = (await act(socket, "history", {"conversation_id": general.id, "limit": 2, "before": page["older"]}))
        assert [m["text"] for m in older["data"]["messages"]] == ["n2", "n1"]


async def test_conversations_lists_mine_with_unread_counts(app, general, bob):
    async with app.app_context():
        await chat.post(bob, general, "unread one")
    async with json_socket(app) as socket:
        await signed_in(app, socket, "alice")
        mine = (await act(socket, "conversations"))["data"]
        assert [(c["name"], c["unread"]) for c in mine] == [("general", 1)]


async def test_details_by_name_or_id_never_show_the_email(app, alice, bob):
    async with json_socket(app) as socket:
        await signed_in(app, socket, "bob")
        by_name = (await act(socket, "details", {"username": "alice"}))["data"]
        by_id = (await act(socket, "details", {"id": alice.id}))["data"]
        assert by_name == by_id and "email" not in by_name
        assert (await act(socket, "details", {"username": "nobody-here"}))["error"]
        assert (await act(socket, "details", {"id": 0}))["error"]
        assert (await act(socket, "details", {}))["error"]


async def test_presence_of_a_member_who_opens_a_page_is_pushed(app, general, sign_in, bob):
    browser = await sign_in("bob")
    async with json_socket(app) as socket:
        await signed_in(app, socket, "alice")
        async with live(browser):
            got = await frame_where(socket, lambda f: f.get("action") == "presence" and bob.id in f["data"]["online"])
            assert got["data"]["offline"] == []


# --- catch-up -------------------------------------------------------------------------------------------

async def test_subscribe_replays_what_changed_since_in_order_then_goes_live(app, general, alice, bob):
    async with app.app_context():
        seen = await chat.post(alice, general, "seen before")
        kept = await chat.post(bob, general, "kept")
        edited = await chat.post(bob, general, "to edit")
        await chat.edit(bob, edited, "edited while away")
        gone = await chat.post(bob, general, "posted and deleted while away")
        await chat.delete(bob, gone)
        await chat.delete(bob, kept)
    async with json_socket(app) as socket:
        await signed_in(app, socket, "alice")
        await socket.send(json.dumps({"action": "subscribe", "data": {"conversations": {str(general.id): seen.seq}}}))
        frames = []
        while (frame := json.loads(await socket.receive()))["action"] != "subscribe":
            frames.append(frame)
        frames = [f for f in frames if f["action"].startswith("message.")]
        # Posted (or seen) then deleted while away: nothing to show. Edited: its latest version.
        assert [(f["action"], f["data"]["id"], f["data"]["text"]) for f in frames] == [
            ("message.created", edited.id, "edited while away")]
        assert frame["data"]["conversations"][str(general.id)]["last_seq"] == (await chat.Conversation.get(
            id=general.id)).last_seq
        async with app.app_context():
            live_one = await chat.post(bob, general, "live again")
        got = await pushed(socket, "message.created")
        assert got["data"]["id"] == live_one.id


async def test_subscribe_after_a_lost_connection_misses_nothing_and_repeats_nothing(app, general, bob):
    async with json_socket(app) as socket:
        await signed_in(app, socket, "alice")
        async with app.app_context():
            first = await chat.post(bob, general, "one")
        last_seen = (await pushed(socket, "message.created"))["data"]["version"]
    async with app.app_context():  # while alice is away
        await chat.edit(bob, first, "one, edited")
        await chat.post(bob, general, "two")
    async with json_socket(app) as socket:
        await signed_in(app, socket, "alice")
        await socket.send(json.dumps({"action": "subscribe",
                                      "data": {"conversations": {str(general.id): last_seen}}}))
        frames = []
        while (frame := json.loads(await socket.receive()))["action"] != "subscribe":
            frames.append(frame)
        frames = [f for f in frames if f["action"].startswith("message.")]
        assert [(f["action"], f["data"]["text"]) for f in frames] == [
            ("message.edited", "one, edited"), ("message.created", "two")]


async def test_subscribing_to_a_conversation_not_mine_says_so(app, alice, general):
    async with app.app_context():
        room = await chat.create_room(alice, "closed", is_open=False)
    async with json_socket(app) as socket:
        await signed_in(app, socket, "bob")
        answer = await act(socket, "subscribe", {"conversations": {str(room.id): 0}})
        assert answer["data"]["conversations"][str(room.id)]["error"]


async def test_a_gap_in_live_events_is_filled_from_the_database(app, general, bob, monkeypatch):
    async with json_socket(app) as socket:
        await signed_in(app, socket, "alice")
        await act(socket, "subscribe", {"conversations": {str(general.id): 0}})
        broker = Runtime.of(app).broker
        real_publish = broker.publish
        dropped = []

        async def lossy(event):
            if event.kind == "message.created" and not dropped:
                dropped.append(event)  # the broker loses this one
                return
            await real_publish(event)

        monkeypatch.setattr(broker, "publish", lossy)
        async with app.app_context():
            await chat.post(bob, general, "lost on the way")
            await chat.post(bob, general, "arrives")
        first = await pushed(socket, "message.created")
        second = await pushed(socket, "message.created")
        assert [first["data"]["text"], second["data"]["text"]] == ["lost on the way", "arrives"]


# --- logging out --------------------------------------------------------------------------------------

async def test_logout_of_another_device_closes_that_devices_socket(app, alice):
    async with json_socket(app) as phone, json_socket(app) as laptop:
        phone_token = (await signed_in(app, phone, "alice"))["token"]
        await signed_in(app, laptop, "alice")
        assert (await act(laptop, "logout", {"token": phone_token}))["data"] == {"success": True}
        assert (await pushed(phone, "logout"))["data"]["reason"] == "revoked"
        assert await closes_with(phone) == 1000
        assert (await act(laptop, "me"))["data"]["username"] == "alice"


async def test_logout_of_my_own_token_answers_then_closes(app, alice):
    async with json_socket(app) as socket:
        await signed_in(app, socket, "alice")
        assert (await act(socket, "logout"))["data"] == {"success": True}
        assert (await pushed(socket, "logout"))["action"] == "logout"
        assert await closes_with(socket) == 1000
    assert not await UserSession.exists(user_id=alice.id, kind="api")


async def test_logout_of_someone_elses_token_is_refused(app, alice, bob):
    bobs = await api_login(app, "bob")
    async with json_socket(app) as socket:
        await signed_in(app, socket, "alice")
        assert (await act(socket, "logout", {"token": bobs.token}))["error"]
    assert (await bobs.get("/api/v1/me"))[0] == 200


async def test_revoking_the_token_on_the_sessions_page_logs_the_socket_out(app, sign_in, alice):
    async with json_socket(app) as socket:
        await signed_in(app, socket, "alice")
        row = await UserSession.get(user_id=alice.id, kind="api")
        browser = await sign_in("alice")
        await browser.post(f"/account/sessions/{row.id}/delete", htmx=True)
        assert (await pushed(socket, "logout"))["data"]["reason"] == "revoked"
        assert await closes_with(socket) == 1000


async def test_a_password_change_logs_the_socket_out(app, sign_in, alice):
    async with json_socket(app) as socket:
        await signed_in(app, socket, "alice")
        browser = await sign_in("alice")
        await browser.post("/account/password", {"current_password": PASSWORD, "password": "a new passphrase",
                                                 "confirm_password": "a new passphrase"})
        assert (await pushed(socket, "logout"))["data"]["reason"] == "password"
        assert await closes_with(socket) == 1000


async def test_one_address_may_hold_only_so_many_unauthenticated_sockets(app, alice, monkeypatch):
    monkeypatch.setattr(serving, "PENDING_PER_ADDRESS", 3)
    sockets = [json_socket(app) for _ in range(3)]
    opened = [await s.__aenter__() for s in sockets]
    try:
        for socket in opened:  # each accepted (an answer proves it)
            assert (await act(socket, "me"))["error"]
        with pytest.raises(WebsocketResponseError) as refused:
            async with json_socket(app) as extra:
                await extra.receive()
        assert refused.value.response.status_code == 429
        await signed_in(app, opened[0], "alice")  # authenticating frees its place
        async with json_socket(app) as socket:
            assert (await act(socket, "me"))["error"]
    finally:
        for socket in sockets:
            await socket.__aexit__(None, None, None)
    assert connection._pending == {}
