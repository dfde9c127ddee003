"""The messenger API adapter (/api/messenger): a client written for that Go messenger, end to
end, against the same accounts, rules and broker as the pages."""
from __future__ import annotations

import asyncio
import json

import pytest
from quart.testing.connections import WebsocketDisconnectError

from app.models import Message, User, UserSession
from tests.helpers import PASSWORD
from tests.helpers.api import Api, act, json_socket
from tests.helpers.live import live, receive_until

M = "/api/messenger"


class Messenger(Api):
    """The Go messenger's client: JWT in `Authorization: Bearer`, `{"Message", "Data"}` back."""

    async def call(self, method, path, body=None, **kwargs):
        status, answer, response = await super().call(method, M + path, body, **kwargs)
        assert set(answer) == {"Message", "Data"}, answer
        return status, answer, response


async def register(app, username: str) -> Messenger:
    client = Messenger(app)
    status, answer, _ = await client.post("/user", {"Username": username, "Password": PASSWORD})
    assert status == 201 and answer["Message"] == "User Created", answer
    client.token = answer["Data"]
    return client


async def test_a_messenger_client_session_end_to_end(app, general, sign_in):
    kai = await register(app, "kai")
    lou = await register(app, "lou")
    assert (await kai.get("/user/lou"))[1]["Data"]["Username"] == "lou"

    status, login, _ = await Messenger(app).post("/user/login", {"Username": "kai", "Password": PASSWORD})
    assert status == 200 and login["Message"] == "Logged In" and login["Data"].count(".") == 2

    status, made, _ = await kai.post("/conversation", {"Recipient": "lou"})
    assert status == 201 and made["Data"]["Users"] == ["kai", "lou"]
    conversation_id = made["Data"]["ConversationId"]
    status, again, _ = await lou.post("/conversation", {"Recipient": "kai"})
    assert status == 200 and again["Data"]["ConversationId"] == conversation_id
    assert [c["ConversationId"] for c in (await lou.get("/conversation"))[1]["Data"]] == [conversation_id]

    # lou also has a browser open: the messenger's message appears there live.
    browser = await sign_in("lou")
    async with live(browser) as page:
        status, sent, _ = await kai.post("/message", {"ConversationId": conversation_id, "Message": "hi lou"})
        assert status == 201 and sent["Message"] == "Message Sent"
        message_id = sent["Data"]["MessageId"]
        assert "hi lou" in await receive_until(page, f"message-{message_id}")

    status, edited, _ = await kai.put("/message", {"MessageId": message_id, "Message": "hi lou!"})
    assert status == 200 and edited["Data"] == {"MessageId": message_id}
    await lou.post("/message", {"ConversationId": str(conversation_id), "Message": "hey kai"})
    _, listed, _ = await lou.get(f"/message/{conversation_id}")
    assert [(m["User"], m["Message"]) for m in listed["Data"]] == [("kai", "hi lou!"), ("lou", "hey kai")]
    assert listed["Data"][0]["Edited"]

    status, deleted, _ = await kai.delete(f"/message/{message_id}")
    assert status == 200 and deleted == {"Message": "Message Deleted", "Data": None}
    assert [m["Message"] for m in (await lou.get(f"/message/{conversation_id}"))[1]["Data"]] == ["hey kai"]

    status, out, _ = await kai.post("/user/logout")
    assert status == 200 and out["Message"] == "Logged Out"
    assert (await kai.get("/conversation"))[0] == 401


async def test_a_profile_says_logged_on_and_never_shows_the_email(app, general, sign_in, alice):
    kai = await register(app, "kai")
    status, answer, _ = await kai.get("/user/alice")
    assert status == 200 and set(answer["Data"]) == {"Username", "LoggedOn", "LastOnline", "Created"}
    assert answer["Data"]["LoggedOn"] is False
    browser = await sign_in("alice")
    async with live(browser):
        assert (await kai.get("/user/alice"))[1]["Data"]["LoggedOn"] is True


async def test_an_account_made_without_an_email_gets_one_that_receives_no_mail(app, general):
    await register(app, "kai")
    user = await User.get(username="kai")
    assert user.email.endswith("@no-email.invalid")
    assert await UserSession.filter(user_id=user.id, kind="api").count() == 1  # logged in on creation


@pytest.mark.parametrize("path, body, status", [
    ("/user", {"Password": PASSWORD}, 422), ("/user", {"Username": "kai"}, 422),
    ("/user", {"Username": "kai", "Password": "short"}, 422),
    ("/user", {"Username": "alice", "Password": PASSWORD}, 422),
    ("/user", [1], 422), ("/user/login", {"Username": "alice", "Password": "wrong password!"}, 422),
    ("/user/login", {}, 422),
])
async def test_bad_input_gets_the_messengers_error_shape(app, alice, path, body, status):
    code, answer, _ = await Messenger(app).post(path, body)
    assert code == status and answer["Data"] is None and answer["Message"]


@pytest.mark.parametrize("raw", [b"\x90{\"Username\"}", b"[" * 50_000, b"{not json"])
async def test_a_body_that_cannot_be_read_is_a_400_in_its_shape(app, alice, raw):
    code, answer, _ = await Messenger(app).call("POST", "/user/login", data=raw,
                                                headers={"Content-Type": "application/json"})
    assert code == 400 and answer["Data"] is None


async def test_a_body_that_is_not_json_is_a_415_in_its_shape(app, alice):
    code, answer, _ = await Messenger(app).call("POST", "/user/login", data="Username=alice",
                                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert code == 415 and answer["Data"] is None


@pytest.mark.parametrize("method, path", [("GET", "/conversation"), ("POST", "/conversation"), ("GET", "/user/alice"),
                                          ("POST", "/message"), ("PUT", "/message"), ("DELETE", "/message/1"),
                                          ("GET", "/message/1"), ("POST", "/user/logout")])
async def test_without_a_token_everything_but_joining_is_401(app, alice, method, path):
    code, answer, _ = await Messenger(app).call(method, path, {} if method in {"POST", "PUT"} else None)
    assert code == 401 and answer["Data"] is None


async def test_a_bare_token_without_bearer_is_taken_too(app, general):
    kai = await register(app, "kai")
    code, _, _ = await Messenger(app).get("/conversation", headers={"Authorization": kai.token})
    assert code == 200


@pytest.fixture
async def trio(app, general):
    return [await register(app, name) for name in ("kai", "lou", "max")]


async def test_outsiders_cannot_read_post_edit_or_delete(app, trio):
    kai, lou, max_ = trio
    conversation_id = (await kai.post("/conversation", {"Recipient": "lou"}))[1]["Data"]["ConversationId"]
    message_id = (await kai.post("/message", {"ConversationId": conversation_id, "Message": "private"}))[1]["Data"][
        "MessageId"]
    assert (await max_.get(f"/message/{conversation_id}"))[0] == 404
    assert (await max_.post("/message", {"ConversationId": conversation_id, "Message": "let me in"}))[0] == 404
    assert (await max_.put("/message", {"MessageId": message_id, "Message": "x"}))[0] == 404
    assert (await max_.delete(f"/message/{message_id}"))[0] == 404
    code, answer, _ = await lou.put("/message", {"MessageId": message_id, "Message": "not mine"})
    assert code == 403 and answer["Message"] == "Only its author can edit a message."
    assert (await Message.get(id=message_id)).body == "private"


@pytest.mark.parametrize("body", [{"Recipient": "nobody-here"}, {"Recipient": ""}, {"Recipient": 5}, {}])
async def test_a_conversation_needs_a_real_recipient(app, trio, body):
    code, answer, _ = await trio[0].post("/conversation", body)
    assert code == 422 and answer["Message"]


@pytest.mark.parametrize("body", [{"ConversationId": "x", "Message": "hi"}, {"ConversationId": 0, "Message": "hi"},
                                  {"ConversationId": 1, "Message": ""}, {"ConversationId": 1}, {"Message": "hi"},
                                  {"ConversationId": True, "Message": "hi"}])
async def test_a_message_needs_a_conversation_and_text(app, trio, body):
    code, answer, _ = await trio[0].post("/message", body)
    assert code == 422 and answer["Data"] is None
    assert await Message.all().count() == 0


# --- the websocket ---------------------------------------------------------------------------------

async def open_socket(app, token: str):
    socket = app.test_client().websocket(f"{M}/websocket")
    opened = await socket.__aenter__()
    assert json.loads(await opened.receive()) == {"Message": "Websocket Open"}
    await opened.send(token)
    assert json.loads(await opened.receive()) == {"Message": "Websocket Authenticated"}
    return socket, opened


def typing(user: str, conversation_id: int) -> dict:
    return {"User": user, "Message": "Typing", "ConvId": conversation_id}


async def test_typing_objects_are_relayed_to_the_other_members(app, trio):
    kai, lou, max_ = trio
    conversation_id = (await kai.post("/conversation", {"Recipient": "lou"}))[1]["Data"]["ConversationId"]
    kai_and_max = (await kai.post("/conversation", {"Recipient": "max"}))[1]["Data"]["ConversationId"]
    sockets = [await open_socket(app, c.token) for c in (kai, lou, max_)]
    (_, kais), (_, lous), (_, maxs) = sockets
    try:
        await kais.send(json.dumps({"User": "kai", "Message": "Typing", "ConvId": conversation_id}))
        got = json.loads(await asyncio.wait_for(lous.receive(), 3))
        assert got == {"User": "kai", "Message": "Typing", "ConvId": conversation_id}
        # A JSON-websocket program typing in the same conversation reaches the messenger client too.
        async with json_socket(app) as program:
            await act(program, "auth", {"token": lou.token})
            await act(program, "typing", {"conversation_id": conversation_id, "state": "start"})
            got = json.loads(await asyncio.wait_for(kais.receive(), 3))
            assert got == {"User": "lou", "Message": "Typing", "ConvId": conversation_id}
        # max is not in the conversation: a typing object of his own there is dropped. Barrier: he
        # then types where he is a member; his socket's frames are handled in order, so kai's next
        # frame would be the dropped one had it gone out.
        await maxs.send(json.dumps(typing("max", conversation_id)))
        await maxs.send(json.dumps(typing("max", kai_and_max)))
        assert json.loads(await asyncio.wait_for(kais.receive(), 3)) == typing("max", kai_and_max)
        # And max heard none of the conversation's typing: everything published before kai types to
        # him reaches him first, so his next frame must be kai's.
        await kais.send(json.dumps(typing("kai", kai_and_max)))
        assert json.loads(await asyncio.wait_for(maxs.receive(), 3)) == typing("kai", kai_and_max)
    finally:
        for socket, _ in sockets:
            await socket.__aexit__(None, None, None)


async def test_reactions_by_a_messenger_client_reach_its_socket_and_follow_the_rules(app, trio):
    kai, lou, max_ = trio
    conversation_id = (await kai.post("/conversation", {"Recipient": "lou"}))[1]["Data"]["ConversationId"]
    message_id = (await kai.post("/message", {"ConversationId": conversation_id, "Message": "lunch?"}))[1]["Data"][
        "MessageId"]
    socket, kais = await open_socket(app, kai.token)
    try:
        code, answer, _ = await lou.put(f"/message/{message_id}/reaction/%F0%9F%91%8D")
        assert code == 200 and answer["Message"] == "Reaction Added"
        assert answer["Data"]["Reactions"] == [{"Emoji": "👍", "Count": 1, "Users": ["lou"]}]
        heard = json.loads(await receive_until(kais, "reaction.added", 3))
        assert heard["Data"]["message_id"] == message_id and heard["Data"]["emoji"] == "👍"
        # Who may not react: someone outside the conversation (as if it did not exist); bad emoji.
        assert (await max_.put(f"/message/{message_id}/reaction/%F0%9F%91%8D"))[0] == 404
        code, answer, _ = await lou.put(f"/message/{message_id}/reaction/nonsense")
        assert code == 422 and answer["Data"] is None and "emoji" in answer["Message"].lower()
        assert (await lou.put("/message/99999999/reaction/%F0%9F%91%8D"))[0] == 404
        code, answer, _ = await lou.delete(f"/message/{message_id}/reaction/%F0%9F%91%8D")
        assert code == 200 and answer["Message"] == "Reaction Removed" and answer["Data"]["Reactions"] == []
        assert json.loads(await receive_until(kais, "reaction.removed", 3))["Data"]["user_id"] == (
            await User.get(username="lou")).id
        listed = (await kai.get(f"/message/{conversation_id}"))[1]["Data"]
        assert listed[0]["Reactions"] == []
    finally:
        await socket.__aexit__(None, None, None)


@pytest.mark.parametrize("first", ["not a token", "", '{"token": "x"}'])
async def test_a_socket_whose_first_frame_is_not_a_valid_jwt_is_closed(app, general, first):
    async with app.test_client().websocket(f"{M}/websocket") as socket:
        assert json.loads(await socket.receive()) == {"Message": "Websocket Open"}
        await socket.send(first)
        assert json.loads(await socket.receive()) == {"Message": "Websocket Authentication Failed"}
        with pytest.raises(WebsocketDisconnectError) as closed:
            await asyncio.wait_for(socket.receive(), 3)
        assert closed.value.args[0] == 1008


async def test_logging_out_closes_the_clients_socket(app, trio):
    kai = trio[0]
    socket, opened = await open_socket(app, kai.token)
    try:
        await kai.post("/user/logout")
        assert json.loads(await asyncio.wait_for(opened.receive(), 3)) == {"Message": "Logged Out"}
        with pytest.raises(WebsocketDisconnectError):
            await asyncio.wait_for(opened.receive(), 3)
    finally:
        await socket.__aexit__(None, None, None)
