"""A client generated from the API's own OpenAPI document (openapi-python-client, as a program's
author would make one) drives every operation against the real server (Hypercorn), good calls
and refusals alike: every answer, a 201 or a 404, comes back as its typed model, never as None or
an "unexpected status". Generating it prints no warning (no endpoint or response left out)."""
from __future__ import annotations

import importlib
from datetime import datetime
from http import HTTPStatus

import pytest

from tests.helpers import PASSWORD
from tests.helpers.generated import fetch_document, generated_client, operations, warnings_in, with_body
from tests.helpers.server import Server

PACKAGE = "huddle_client"
POSTS_PER_10_SECONDS = 6
LOGIN_FAILURES = 3
MEMBERS = ("ben", "cat", "dan", "eve")  # registered by the server fixture
# Sign-up attempts per network, made or refused: the fixture's, then four in the test of the limit
# (fay made, ann and gus refused, one more made).
REGISTRATIONS = len(MEMBERS) + 4

# What a program's author calls: operationId -> (method, path). The names are the client's API.
OPERATIONS = {
    "register": ("post", "/api/v1/users"),
    "login": ("post", "/api/v1/login"),
    "logout": ("post", "/api/v1/logout"),
    "getMe": ("get", "/api/v1/me"),
    "changeMe": ("patch", "/api/v1/me"),
    "getUser": ("get", "/api/v1/users/{username}"),
    "listConversations": ("get", "/api/v1/conversations"),
    "createConversation": ("post", "/api/v1/conversations"),
    "getConversation": ("get", "/api/v1/conversations/{conversation_id}"),
    "updateRoom": ("patch", "/api/v1/conversations/{conversation_id}"),
    "deleteRoom": ("delete", "/api/v1/conversations/{conversation_id}"),
    "listMessages": ("get", "/api/v1/conversations/{conversation_id}/messages"),
    "sendMessage": ("post", "/api/v1/conversations/{conversation_id}/messages"),
    "markConversationRead": ("post", "/api/v1/conversations/{conversation_id}/read"),
    "editMessage": ("patch", "/api/v1/messages/{message_id}"),
    "deleteMessage": ("delete", "/api/v1/messages/{message_id}"),
    "addReaction": ("put", "/api/v1/messages/{message_id}/reactions/{emoji}"),
    "removeReaction": ("delete", "/api/v1/messages/{message_id}/reactions/{emoji}"),
    "removeLinkPreview": ("delete", "/api/v1/messages/{message_id}/preview"),
    "getLinkPreviewImage": ("get", "/api/v1/messages/{message_id}/preview/image"),
    "openThread": ("post", "/api/v1/messages/{message_id}/thread"),
    "listThreads": ("get", "/api/v1/threads"),
    "followThread": ("put", "/api/v1/threads/{thread_id}/follow"),
    "unfollowThread": ("delete", "/api/v1/threads/{thread_id}/follow"),
    "searchMessages": ("get", "/api/v1/search"),
    "listMentions": ("get", "/api/v1/mentions"),
    "getNotificationLevel": ("get", "/api/v1/conversations/{conversation_id}/notifications"),
    "setNotificationLevel": ("put", "/api/v1/conversations/{conversation_id}/notifications"),
    "getPushKey": ("get", "/api/v1/push/key"),
    "subscribePush": ("post", "/api/v1/push/subscriptions"),
    "unsubscribePush": ("delete", "/api/v1/push/subscriptions"),
    "uploadFile": ("post", "/api/v1/uploads"),
    "getFile": ("get", "/api/v1/files/{token}"),
    "getFilePreview": ("get", "/api/v1/files/{token}/preview"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("client"), HUDDLE_POSTS_PER_10_SECONDS=str(POSTS_PER_10_SECONDS),
                    HUDDLE_LOGIN_FAILURES_PER_USER=str(LOGIN_FAILURES),
                    HUDDLE_REGISTRATIONS_PER_ADDRESS_PER_HOUR=str(REGISTRATIONS))
    # ann administers; ben and cat are members; dan posts until he is limited; eve is locked out.
    server.create_user("ann", PASSWORD, admin=True)
    for name in MEMBERS:  # through the API: one process for the administrator is enough
        server.api("POST", "/api/v1/users", body={"username": name, "email": f"{name}@example.com",
                                                  "password": PASSWORD})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def document(server) -> dict:
    return fetch_document(f"{server.url}/api/v1/openapi.json")


@pytest.fixture(scope="module")
def generated(document, tmp_path_factory):
    """(what the generator printed, the imported package), from the document the server serves."""
    with generated_client(document, tmp_path_factory.mktemp("generated"), PACKAGE) as found:
        yield found


@pytest.fixture(scope="module")
def api(generated):
    """The generated operations by operationId: api["sendMessage"].sync_detailed(...)."""
    return operations(generated[1], OPERATIONS, tag="api")


@pytest.fixture(scope="module")
def models(generated):
    return importlib.import_module(f"{PACKAGE}.models")


@pytest.fixture(scope="module")
def connect(server, generated, api, models):
    """connect("ann") -> an AuthenticatedClient for her (a token from the generated login)."""
    _, package = generated

    def connect(username: str | None = None, token: str | None = None, **httpx_args):
        if username is not None:
            answer = api["login"].sync_detailed(client=anonymous(),
                                                body=models.Credentials(username=username, password=PASSWORD))
            assert answer.status_code == HTTPStatus.OK, answer.content
            token = answer.parsed.data.token
        return package.AuthenticatedClient(base_url=server.url, token=token, raise_on_unexpected_status=True,
                                           httpx_args=httpx_args)

    def anonymous(**httpx_args):
        return package.Client(base_url=server.url, raise_on_unexpected_status=True, httpx_args=httpx_args)

    connect.anonymous = anonymous
    return connect


def refused(answer, models, status: HTTPStatus, code: str):
    """The answer is this error, parsed into the one Error model; its detail."""
    assert answer.status_code == status, (answer.status_code, answer.content)
    assert isinstance(answer.parsed, models.Error), answer.parsed
    assert answer.parsed.error.code == code
    assert answer.parsed.error.message
    return answer.parsed.error


def fields(detail) -> dict:
    return detail.fields.additional_properties


# --- the document and the generated client ----------------------------------------------------------

def test_the_client_is_generated_without_a_warning(generated):
    output, package = generated
    assert not warnings_in(output), output
    assert package.AuthenticatedClient and package.Client


def test_every_operation_has_its_action_name(document, api):
    found = {op["operationId"]: (method, path) for path, methods in document["paths"].items()
             for method, op in methods.items()}
    assert found == OPERATIONS
    assert all(hasattr(module, "sync_detailed") and hasattr(module, "asyncio") for module in api.values())


def test_errors_and_envelopes_are_shared_components(document):
    responses = document["components"]["responses"]
    schemas = document["components"]["schemas"]
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    name = response["$ref"].removeprefix("#/components/responses/")
                    assert responses[name]["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"}, (method, path, status)
                else:
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.removeprefix("#/components/schemas/").endswith("Envelope"), (method, path, status)
            if "requestBody" in op:  # JSON, but an upload's multipart form (uploadFile)
                (kind, content), = op["requestBody"]["content"].items()
                assert kind == ("multipart/form-data" if path == "/api/v1/uploads" else "application/json")
                assert set(content["schema"]) == {"$ref"}
    assert "ErrorBody" not in schemas and "Error" in schemas and "ErrorDetail" in schemas
    assert not [name for name in schemas if "[" in name or "Error" in name and name not in {"Error", "ErrorDetail"}]
    assert responses["RateLimited"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}


# --- accounts ------------------------------------------------------------------------------------------

def test_registering_then_the_limit(server, api, models, connect):
    """The only test that registers: the per-network limit counts every attempt made here."""
    nobody = connect.anonymous()

    def new_user(name: str, password: str = PASSWORD):
        return models.NewUser(username=name, email=f"{name}@example.com", password=password)

    made = api["register"].sync_detailed(client=nobody, body=new_user("fay"))
    assert made.status_code == HTTPStatus.CREATED
    assert isinstance(made.parsed, models.NewAccountEnvelope)
    account = made.parsed.data
    assert account.user.username == "fay" and account.user.email == "fay@example.com"
    assert account.user.is_admin is False and isinstance(account.expires, datetime)
    me = api["getMe"].sync_detailed(client=connect(token=account.token))
    assert me.parsed.data.username == "fay"

    taken = api["register"].sync_detailed(client=nobody, body=new_user("ann"))
    assert "username" in fields(refused(taken, models, HTTPStatus.UNPROCESSABLE_ENTITY, "invalid"))
    weak = api["register"].sync_detailed(client=nobody, body=new_user("gus", "short"))
    assert "password" in fields(refused(weak, models, HTTPStatus.UNPROCESSABLE_ENTITY, "invalid"))

    for n in range(REGISTRATIONS - len(MEMBERS) - 3):
        assert api["register"].sync_detailed(client=nobody, body=new_user(f"hal{n}")).status_code == HTTPStatus.CREATED
    limited = api["register"].sync_detailed(client=nobody, body=new_user("ida"))
    refused(limited, models, HTTPStatus.TOO_MANY_REQUESTS, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0


def test_registering_with_a_body_that_is_not_json_or_not_readable(api, models, connect):
    body = models.NewUser(username="jo", email="jo@example.com", password=PASSWORD)
    as_text = api["register"].sync_detailed(client=connect.anonymous(**with_body("text/plain")), body=body)
    refused(as_text, models, HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    unreadable = connect.anonymous(**with_body(body=b'{"username": "jo\xff"}'))
    refused(api["register"].sync_detailed(client=unreadable, body=body), models, HTTPStatus.BAD_REQUEST,
            "bad_request")


def test_a_display_name_set_and_shown(api, models, connect):
    cat = connect("cat")
    changed = api["changeMe"].sync_detailed(client=cat, body=models.MeChanges(display_name="Cat Stevens"))
    assert changed.status_code == HTTPStatus.OK and isinstance(changed.parsed, models.MeEnvelope)
    assert changed.parsed.data.display_name == "Cat Stevens" and changed.parsed.data.username == "cat"
    seen = api["getUser"].sync_detailed("cat", client=connect("ben"))
    assert seen.parsed.data.display_name == "Cat Stevens"
    bidi = api["changeMe"].sync_detailed(client=cat, body=models.MeChanges(display_name="Cat\u202eStevens"))
    assert "display_name" in fields(refused(bidi, models, HTTPStatus.UNPROCESSABLE_ENTITY, "invalid"))
    api["changeMe"].sync_detailed(client=cat, body=models.MeChanges(display_name=""))


def test_logging_in_and_out(api, models, connect):
    nobody = connect.anonymous()
    answer = api["login"].sync_detailed(client=nobody, body=models.Credentials(username="ben", password=PASSWORD))
    assert answer.status_code == HTTPStatus.OK and isinstance(answer.parsed, models.TokenEnvelope)
    assert answer.parsed.data.token.count(".") == 2 and answer.parsed.data.expires > datetime.now().astimezone()
    ben = connect(token=answer.parsed.data.token)

    out = api["logout"].sync_detailed(client=ben)
    assert out.status_code == HTTPStatus.OK and isinstance(out.parsed, models.DoneEnvelope)
    assert out.parsed.data.success is True
    gone = api["getMe"].sync_detailed(client=ben)
    refused(gone, models, HTTPStatus.UNAUTHORIZED, "unauthorized")
    assert gone.headers["WWW-Authenticate"].startswith("Bearer")
    refused(api["logout"].sync_detailed(client=ben), models, HTTPStatus.UNAUTHORIZED, "unauthorized")

    empty = api["login"].sync_detailed(client=nobody, body=models.Credentials(username="", password=""))
    assert {"username", "password"} <= set(fields(refused(empty, models, HTTPStatus.UNPROCESSABLE_ENTITY,
                                                                 "invalid")))
    huge = models.Credentials(username="ben", password="x" * (1024 * 1024 + 1))
    too_big = api["login"].sync_detailed(client=nobody, body=huge)
    refused(too_big, models, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too_large")


def test_failed_logins_are_limited(api, models, connect):
    nobody = connect.anonymous()
    for _ in range(LOGIN_FAILURES):
        guess = models.Credentials(username="eve", password="not her password")
        wrong = api["login"].sync_detailed(client=nobody, body=guess)
        assert "form" in fields(refused(wrong, models, HTTPStatus.UNPROCESSABLE_ENTITY, "invalid"))
    limited = api["login"].sync_detailed(client=nobody, body=models.Credentials(username="eve", password=PASSWORD))
    detail = refused(limited, models, HTTPStatus.TOO_MANY_REQUESTS, "rate_limited")
    assert "Too many" in detail.message and int(limited.headers["Retry-After"]) > 0


def test_me_and_other_people(api, models, connect):
    cat = connect("cat")
    me = api["getMe"].sync_detailed(client=cat)
    assert isinstance(me.parsed, models.MeEnvelope)
    assert (me.parsed.data.username, me.parsed.data.email, me.parsed.data.is_admin) == ("cat", "cat@example.com",
                                                                                       False)
    ann = api["getUser"].sync_detailed("ann", client=cat)
    assert isinstance(ann.parsed, models.PublicUserEnvelope)
    assert ann.parsed.data.username == "ann" and isinstance(ann.parsed.data.created, datetime)
    assert "email" not in ann.parsed.data.to_dict()
    missing = api["getUser"].sync_detailed("nobody-here", client=cat)
    assert "nobody-here" in refused(missing, models, HTTPStatus.NOT_FOUND, "not_found").message
    refused(api["getMe"].sync_detailed(client=connect(token="not.a.token")), models, HTTPStatus.UNAUTHORIZED,
            "unauthorized")


# --- conversations ---------------------------------------------------------------------------------------

def test_conversations(api, models, connect):
    ann, cat = connect("ann"), connect("cat")
    made = api["createConversation"].sync_detailed(client=ann, body=models.NewConversation(usernames=["cat"]))
    assert made.status_code == HTTPStatus.CREATED and isinstance(made.parsed, models.ConversationEnvelope)
    direct = made.parsed.data
    assert direct.kind == models.ConversationKind.DIRECT and direct.members == ["ann", "cat"]
    again = api["createConversation"].sync_detailed(client=cat, body=models.NewConversation(usernames=["ann"]))
    assert again.status_code == HTTPStatus.OK and again.parsed.data.id == direct.id

    room = api["createConversation"].sync_detailed(client=cat, body=models.NewConversation(room="planning",
                                                                                           topic="Q3"))
    assert room.status_code == HTTPStatus.CREATED
    assert (room.parsed.data.kind, room.parsed.data.name, room.parsed.data.topic) == (models.ConversationKind.ROOM,
                                                                                      "planning", "Q3")
    nobody = api["createConversation"].sync_detailed(client=ann, body=models.NewConversation(usernames=["zed"]))
    assert "usernames" in fields(refused(nobody, models, HTTPStatus.UNPROCESSABLE_ENTITY, "invalid"))
    both = api["createConversation"].sync_detailed(client=ann, body=models.NewConversation())
    refused(both, models, HTTPStatus.UNPROCESSABLE_ENTITY, "invalid")
    as_text = api["createConversation"].sync_detailed(client=connect(token=ann.token, **with_body("text/plain")),
                                                      body=models.NewConversation(room="elsewhere"))
    refused(as_text, models, HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")

    mine = api["listConversations"].sync_detailed(client=cat)
    assert isinstance(mine.parsed, models.ConversationListEnvelope)
    assert {(c.kind, c.name) for c in mine.parsed.data} >= {(models.ConversationKind.ROOM, "planning"),
                                                            (models.ConversationKind.DIRECT, "ann, cat")}
    refused(api["listConversations"].sync_detailed(client=connect(token="x")), models, HTTPStatus.UNAUTHORIZED,
            "unauthorized")

    one = api["getConversation"].sync_detailed(direct.id, client=ann)
    assert isinstance(one.parsed, models.ConversationEnvelope) and one.parsed.data.members == ["ann", "cat"]
    ben = connect("ben")
    refused(api["getConversation"].sync_detailed(direct.id, client=ben), models, HTTPStatus.NOT_FOUND, "not_found")


def test_rooms_changed_and_deleted_by_their_creator_or_an_administrator(api, models, connect):
    ann, ben, cat = connect("ann"), connect("ben"), connect("cat")
    room = api["createConversation"].sync_detailed(client=ben, body=models.NewConversation(room="standup")).parsed.data
    changed = api["updateRoom"].sync_detailed(room.id, client=ben, body=models.RoomChanges(
        name="daily", topic="9:30", is_open=False))
    assert changed.status_code == HTTPStatus.OK and isinstance(changed.parsed, models.ConversationEnvelope)
    assert (changed.parsed.data.name, changed.parsed.data.topic, changed.parsed.data.is_open,
            changed.parsed.data.archived) == ("daily", "9:30", False, False)
    refused(api["updateRoom"].sync_detailed(room.id, client=cat, body=models.RoomChanges(topic="mine")), models,
            HTTPStatus.NOT_FOUND, "not_found")  # closed now, and cat is not in it
    too_long = api["updateRoom"].sync_detailed(room.id, client=ben, body=models.RoomChanges(name="x" * 41))
    assert "name" in fields(refused(too_long, models, HTTPStatus.UNPROCESSABLE_ENTITY, "invalid"))
    archived = api["updateRoom"].sync_detailed(room.id, client=ann, body=models.RoomChanges(archived=True))
    assert archived.parsed.data.archived is True  # an administrator, not in the room
    refused(api["deleteRoom"].sync_detailed(room.id, client=cat), models, HTTPStatus.NOT_FOUND, "not_found")
    gone = api["deleteRoom"].sync_detailed(room.id, client=ben)
    assert gone.status_code == HTTPStatus.OK and isinstance(gone.parsed, models.DoneEnvelope)
    refused(api["getConversation"].sync_detailed(room.id, client=ben), models, HTTPStatus.NOT_FOUND, "not_found")
    refused(api["deleteRoom"].sync_detailed(room.id, client=ann), models, HTTPStatus.NOT_FOUND, "not_found")


# --- messages ------------------------------------------------------------------------------------------------

def test_messages_sent_read_edited_and_deleted(api, models, connect):
    ann, ben, cat = connect("ann"), connect("ben"), connect("cat")
    room = api["createConversation"].sync_detailed(client=ben, body=models.NewConversation(room="lunch")).parsed.data
    api["createConversation"].sync_detailed(client=cat, body=models.NewConversation(room="lunch"))

    sent = api["sendMessage"].sync_detailed(room.id, client=ben, body=models.NewMessage(text="pizza?", client_id="b1"))
    assert sent.status_code == HTTPStatus.CREATED and isinstance(sent.parsed, models.MessageEnvelope)
    message = sent.parsed.data
    assert (message.text, message.author, message.conversation_id, message.deleted) == ("pizza?", "ben", room.id,
                                                                                        False)
    retry = api["sendMessage"].sync_detailed(room.id, client=ben, body=models.NewMessage(text="pizza?", client_id="b1"))
    assert retry.parsed.data.id == message.id
    second = api["sendMessage"].sync_detailed(room.id, client=ben, body=models.NewMessage(text="or sushi")).parsed.data

    page = api["listMessages"].sync_detailed(room.id, client=cat, limit=1)
    assert isinstance(page.parsed, models.MessagePageEnvelope)
    assert [m.text for m in page.parsed.data.messages] == ["or sushi"] and page.parsed.data.older == second.seq
    older = api["listMessages"].sync_detailed(room.id, client=cat, before=page.parsed.data.older)
    assert [m.id for m in older.parsed.data.messages] == [message.id]
    bad_limit = api["listMessages"].sync_detailed(room.id, client=cat, limit=0)
    assert "limit" in fields(refused(bad_limit, models, HTTPStatus.UNPROCESSABLE_ENTITY, "invalid"))
    refused(api["listMessages"].sync_detailed(room.id, client=ann), models, HTTPStatus.NOT_FOUND, "not_found")

    read = api["markConversationRead"].sync_detailed(room.id, client=cat, body=models.ReadUpTo(seq=message.seq))
    assert isinstance(read.parsed, models.ReadStateEnvelope)
    assert (read.parsed.data.read_seq, read.parsed.data.unread) == (message.seq, 1)
    everything = api["markConversationRead"].sync_detailed(room.id, client=cat)
    assert (everything.parsed.data.read_seq, everything.parsed.data.unread) == (second.seq, 0)
    refused(api["markConversationRead"].sync_detailed(room.id, client=ann), models, HTTPStatus.NOT_FOUND,
            "not_found")

    edited = api["editMessage"].sync_detailed(message.id, client=ben, body=models.MessageText(text="pizza!"))
    assert isinstance(edited.parsed, models.MessageEnvelope)
    assert edited.parsed.data.text == "pizza!" and isinstance(edited.parsed.data.edited_at, datetime)
    not_hers = api["editMessage"].sync_detailed(message.id, client=cat, body=models.MessageText(text="mine now"))
    assert "author" in refused(not_hers, models, HTTPStatus.FORBIDDEN, "forbidden").message
    blank = api["editMessage"].sync_detailed(message.id, client=ben, body=models.MessageText(text="   "))
    refused(blank, models, HTTPStatus.UNPROCESSABLE_ENTITY, "invalid")

    refused(api["deleteMessage"].sync_detailed(message.id, client=cat), models, HTTPStatus.FORBIDDEN, "forbidden")
    deleted = api["deleteMessage"].sync_detailed(message.id, client=ben)
    assert isinstance(deleted.parsed, models.MessageEnvelope) and deleted.parsed.data.deleted is True
    assert deleted.parsed.data.text is None
    refused(api["deleteMessage"].sync_detailed(message.id, client=ben), models, HTTPStatus.NOT_FOUND, "not_found")
    edit_gone = api["editMessage"].sync_detailed(message.id, client=ben, body=models.MessageText(text="back"))
    refused(edit_gone, models, HTTPStatus.NOT_FOUND, "not_found")
    by_admin = api["sendMessage"].sync_detailed(room.id, client=cat, body=models.NewMessage(text="rude")).parsed.data
    api["createConversation"].sync_detailed(client=ann, body=models.NewConversation(room="lunch"))
    assert api["deleteMessage"].sync_detailed(by_admin.id, client=ann).parsed.data.deleted is True


def test_reactions_added_and_taken_back(api, models, connect):
    ann, ben, cat = connect("ann"), connect("ben"), connect("cat")
    room = api["createConversation"].sync_detailed(client=ben, body=models.NewConversation(room="snacks")).parsed.data
    api["createConversation"].sync_detailed(client=cat, body=models.NewConversation(room="snacks"))
    message = api["sendMessage"].sync_detailed(room.id, client=ben, body=models.NewMessage(text="crisps?")).parsed.data
    added = api["addReaction"].sync_detailed(message.id, "🎉", client=cat)
    assert isinstance(added.parsed, models.MessageEnvelope)
    [reaction] = added.parsed.data.reactions
    assert (reaction.emoji, reaction.count, reaction.usernames) == ("🎉", 1, ["cat"])
    bad = api["addReaction"].sync_detailed(message.id, "no", client=cat)
    assert "emoji" in fields(refused(bad, models, HTTPStatus.UNPROCESSABLE_ENTITY, "invalid"))
    closed = api["createConversation"].sync_detailed(client=ann, body=models.NewConversation(room="private-ish"))
    hidden = api["sendMessage"].sync_detailed(closed.parsed.data.id, client=ann, body=models.NewMessage(text="x"))
    api["updateRoom"].sync_detailed(closed.parsed.data.id, client=ann, body=models.RoomChanges(is_open=False))
    refused(api["addReaction"].sync_detailed(hidden.parsed.data.id, "🎉", client=cat), models, HTTPStatus.NOT_FOUND,
            "not_found")
    taken = api["removeReaction"].sync_detailed(message.id, "🎉", client=cat)
    assert isinstance(taken.parsed, models.MessageEnvelope) and taken.parsed.data.reactions == []


def test_a_link_preview_is_removed_by_its_sender_only(api, models, connect):
    ben, cat = connect("ben"), connect("cat")
    room = api["createConversation"].sync_detailed(client=ben, body=models.NewConversation(room="links")).parsed.data
    api["createConversation"].sync_detailed(client=cat, body=models.NewConversation(room="links"))
    sent = api["sendMessage"].sync_detailed(room.id, client=ben, body=models.NewMessage(text="see http://localhost/x"))
    message = sent.parsed.data
    assert message.preview is None  # fetched later, by a job: never while sending
    refused(api["removeLinkPreview"].sync_detailed(message.id, client=cat), models, HTTPStatus.FORBIDDEN, "forbidden")
    removed = api["removeLinkPreview"].sync_detailed(message.id, client=ben)
    assert isinstance(removed.parsed, models.MessageEnvelope) and removed.parsed.data.preview is None
    refused(api["removeLinkPreview"].sync_detailed(999999, client=ben), models, HTTPStatus.NOT_FOUND, "not_found")
    assert api["getLinkPreviewImage"].sync_detailed(message.id, client=cat).status_code == HTTPStatus.NOT_FOUND


def test_threads_opened_replied_listed_and_followed(api, models, connect):
    # (ben posts the least here: the later tests post as him, within the module's posting limit)
    ann, ben, cat = connect("ann"), connect("ben"), connect("cat")
    room = api["createConversation"].sync_detailed(client=cat, body=models.NewConversation(room="threads")).parsed.data
    api["createConversation"].sync_detailed(client=ann, body=models.NewConversation(room="threads"))
    asked = api["sendMessage"].sync_detailed(room.id, client=ann, body=models.NewMessage(text="which editor?")).parsed
    opened = api["openThread"].sync_detailed(asked.data.id, client=cat)
    assert opened.status_code == HTTPStatus.OK and isinstance(opened.parsed, models.ConversationEnvelope)
    thread = opened.parsed.data
    assert (thread.kind, thread.parent_message_id, thread.parent_id) == ("thread", asked.data.id, room.id)
    assert api["openThread"].sync_detailed(asked.data.id, client=ann).parsed.data.id == thread.id  # one per message
    reply = api["sendMessage"].sync_detailed(thread.id, client=cat, body=models.NewMessage(text="vim, of course"))
    listed = api["listThreads"].sync_detailed(client=ann)  # the message's author follows from the first reply
    assert [(t.conversation.id, t.unread) for t in listed.parsed.data] == [(thread.id, 1)]
    parent = api["listMessages"].sync_detailed(room.id, client=ann).parsed.data.messages[-1]
    assert parent.thread.conversation_id == thread.id and parent.thread.replies == 1 and parent.thread.repliers == [
        "cat"]
    assert api["unfollowThread"].sync_detailed(thread.id, client=ann).status_code == HTTPStatus.OK
    assert api["listThreads"].sync_detailed(client=ann).parsed.data == []
    assert api["followThread"].sync_detailed(thread.id, client=ann).status_code == HTTPStatus.OK
    # ben is no member of #threads: an open room's reader may open its threads, not post in them.
    assert api["openThread"].sync_detailed(asked.data.id, client=ben).status_code == HTTPStatus.OK
    refused(api["sendMessage"].sync_detailed(thread.id, client=ben, body=models.NewMessage(text="me?")), models,
            HTTPStatus.NOT_FOUND, "not_found")
    refused(api["openThread"].sync_detailed(999999, client=ben), models, HTTPStatus.NOT_FOUND, "not_found")
    refused(api["openThread"].sync_detailed(reply.parsed.data.id, client=ann), models, HTTPStatus.UNPROCESSABLE_ENTITY,
            "invalid")  # no thread in a thread


def test_searching_what_i_may_read(api, models, connect):
    ann, ben, cat = connect("ann"), connect("ben"), connect("cat")
    direct = api["createConversation"].sync_detailed(client=ben, body=models.NewConversation(usernames=["cat"]))
    direct = direct.parsed.data
    first = api["sendMessage"].sync_detailed(direct.id, client=ben, body=models.NewMessage(text="quokka <b>one</b>"))
    second = api["sendMessage"].sync_detailed(direct.id, client=cat, body=models.NewMessage(text="quokka two"))

    page = api["searchMessages"].sync_detailed(client=cat, q="quokka", limit=1)
    assert isinstance(page.parsed, models.SearchPageEnvelope)
    (hit,) = page.parsed.data.messages
    assert (hit.id, hit.author, hit.conversation_id) == (second.parsed.data.id, "cat", direct.id)
    assert "<mark>" in hit.snippet and isinstance(hit.created_at, datetime)
    rest = api["searchMessages"].sync_detailed(client=cat, q="quokka", before=page.parsed.data.older,
                                               order=models.SearchMessagesOrder.NEWEST)
    assert [m.id for m in rest.parsed.data.messages] == [first.parsed.data.id]
    assert "&lt;b&gt;" in rest.parsed.data.messages[0].snippet
    relevant = api["searchMessages"].sync_detailed(client=cat, q="quokka", order=models.SearchMessagesOrder.RELEVANT,
                                                   conversation_id=direct.id)
    assert {m.id for m in relevant.parsed.data.messages} == {first.parsed.data.id, second.parsed.data.id}

    assert api["searchMessages"].sync_detailed(client=ann, q="quokka").parsed.data.messages == []
    refused(api["searchMessages"].sync_detailed(client=ann, q="quokka", conversation_id=direct.id), models,
            HTTPStatus.NOT_FOUND, "not_found")
    odd = api["searchMessages"].sync_detailed(client=cat, q='AND OR NOT NEAR( "quokka')
    assert isinstance(odd.parsed, models.SearchPageEnvelope)
    bad_limit = api["searchMessages"].sync_detailed(client=cat, q="quokka", limit=0)
    assert "limit" in fields(refused(bad_limit, models, HTTPStatus.UNPROCESSABLE_ENTITY, "invalid"))
    refused(api["searchMessages"].sync_detailed(client=connect(token="x"), q="quokka"), models,
            HTTPStatus.UNAUTHORIZED, "unauthorized")


def test_mentions_of_me(api, models, connect):
    ben, cat = connect("ben"), connect("cat")
    room = api["createConversation"].sync_detailed(client=ben, body=models.NewConversation(room="callouts")).parsed.data
    api["createConversation"].sync_detailed(client=cat, body=models.NewConversation(room="callouts"))
    sent = api["sendMessage"].sync_detailed(room.id, client=ben, body=models.NewMessage(text="@cat look"))
    assert sent.parsed.data.mentions == [api["getUser"].sync_detailed("cat", client=ben).parsed.data.id]
    page = api["listMentions"].sync_detailed(client=cat, limit=1)
    assert isinstance(page.parsed, models.MentionPageEnvelope)
    (hit,) = page.parsed.data.messages
    assert (hit.id, hit.conversation_id, hit.unread, hit.everyone) == (sent.parsed.data.id, room.id, True, False)
    assert api["listMentions"].sync_detailed(client=ben).parsed.data.messages == []
    bad_limit = api["listMentions"].sync_detailed(client=cat, limit=0)
    assert "limit" in fields(refused(bad_limit, models, HTTPStatus.UNPROCESSABLE_ENTITY, "invalid"))
    refused(api["listMentions"].sync_detailed(client=connect(token="x")), models, HTTPStatus.UNAUTHORIZED,
            "unauthorized")


def test_notification_levels_read_and_chosen(api, models, connect):
    ann, ben = connect("ann"), connect("ben")
    room = api["createConversation"].sync_detailed(client=ben, body=models.NewConversation(room="alerts")).parsed.data
    level = api["getNotificationLevel"].sync_detailed(room.id, client=ben)
    assert level.status_code == HTTPStatus.OK and isinstance(level.parsed, models.NotificationLevelEnvelope)
    assert (level.parsed.data.level, level.parsed.data.default) == (models.NotificationLevelLevel.MENTIONS, True)
    nothing = models.LevelChoice(level=models.LevelChoiceLevelType0.NOTHING)
    chosen = api["setNotificationLevel"].sync_detailed(room.id, client=ben, body=nothing)
    assert isinstance(chosen.parsed, models.NotificationLevelEnvelope)
    assert (chosen.parsed.data.level, chosen.parsed.data.default) == (models.NotificationLevelLevel.NOTHING, False)
    back = api["setNotificationLevel"].sync_detailed(room.id, client=ben, body=models.LevelChoice(level=None))
    assert (back.parsed.data.level, back.parsed.data.default) == (models.NotificationLevelLevel.MENTIONS, True)

    loud = connect(token=ben.token, **with_body(body=b'{"level": "loud"}'))
    bad = api["setNotificationLevel"].sync_detailed(room.id, client=loud, body=nothing)
    assert "level" in fields(refused(bad, models, HTTPStatus.UNPROCESSABLE_ENTITY, "invalid"))
    # An administrator who is not in it has no level there either.
    refused(api["getNotificationLevel"].sync_detailed(room.id, client=ann), models, HTTPStatus.NOT_FOUND, "not_found")
    refused(api["setNotificationLevel"].sync_detailed(room.id, client=ann, body=nothing), models,
            HTTPStatus.NOT_FOUND, "not_found")
    refused(api["getNotificationLevel"].sync_detailed(room.id, client=connect(token="x")), models,
            HTTPStatus.UNAUTHORIZED, "unauthorized")


def test_push_key_and_subscriptions(api, models, connect):
    import base64
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def b64url(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    key = api["getPushKey"].sync_detailed(client=connect.anonymous())
    assert key.status_code == HTTPStatus.OK and isinstance(key.parsed, models.PushKeyEnvelope)
    assert len(base64.urlsafe_b64decode(key.parsed.data.public_key + "==")) == 65
    ben, cat = connect("ben"), connect("cat")
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    keys = models.PushKeys(p256dh=b64url(point), auth=b64url(os.urandom(16)))
    endpoint = "https://93.184.215.14/push/ben"  # a public address: no DNS, and nothing is sent here
    body = models.NewPushSubscription(endpoint=endpoint, keys=keys)
    made = api["subscribePush"].sync_detailed(client=ben, body=body)
    assert made.status_code == HTTPStatus.CREATED and isinstance(made.parsed, models.PushSubscriptionInfoEnvelope)
    assert made.parsed.data.endpoint == endpoint
    again = api["subscribePush"].sync_detailed(client=ben, body=body)
    assert again.status_code == HTTPStatus.OK and again.parsed.data.id == made.parsed.data.id
    inward = models.NewPushSubscription(endpoint="https://127.0.0.1/push", keys=keys)
    detail = refused(api["subscribePush"].sync_detailed(client=ben, body=inward), models,
                     HTTPStatus.UNPROCESSABLE_ENTITY, "invalid")
    assert "endpoint" in fields(detail)
    refused(api["unsubscribePush"].sync_detailed(client=cat, body=models.PushEndpoint(endpoint=endpoint)), models,
            HTTPStatus.NOT_FOUND, "not_found")
    gone = api["unsubscribePush"].sync_detailed(client=ben, body=models.PushEndpoint(endpoint=endpoint))
    assert gone.status_code == HTTPStatus.OK and gone.parsed.data.success is True
    refused(api["subscribePush"].sync_detailed(client=connect(token="x"), body=inward), models,
            HTTPStatus.UNAUTHORIZED, "unauthorized")


def test_sending_refusals(api, models, connect):
    ben, dan = connect("ben"), connect("dan")
    room = api["createConversation"].sync_detailed(client=dan, body=models.NewConversation(room="busy")).parsed.data
    refused(api["sendMessage"].sync_detailed(room.id, client=ben, body=models.NewMessage(text="hi")), models,
            HTTPStatus.NOT_FOUND, "not_found")
    blank = api["sendMessage"].sync_detailed(room.id, client=dan, body=models.NewMessage(text=""))
    refused(blank, models, HTTPStatus.UNPROCESSABLE_ENTITY, "invalid")
    huge = api["sendMessage"].sync_detailed(room.id, client=dan, body=models.NewMessage(text="x" * (1024 * 1024 + 1)))
    refused(huge, models, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too_large")
    unreadable = connect(token=dan.token, **with_body(body=b'{"text": "\xff"}'))
    refused(api["sendMessage"].sync_detailed(room.id, client=unreadable, body=models.NewMessage(text="?")), models,
            HTTPStatus.BAD_REQUEST, "bad_request")
    as_text = connect(token=dan.token, **with_body("text/plain"))
    refused(api["sendMessage"].sync_detailed(room.id, client=as_text, body=models.NewMessage(text="?")), models,
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    refused(api["sendMessage"].sync_detailed(room.id, client=connect(token="x"), body=models.NewMessage(text="?")),
            models, HTTPStatus.UNAUTHORIZED, "unauthorized")

    for n in range(POSTS_PER_10_SECONDS):
        sent = api["sendMessage"].sync_detailed(room.id, client=dan, body=models.NewMessage(text=f"{n}"))
        assert sent.status_code == HTTPStatus.CREATED, sent.content
    limited = api["sendMessage"].sync_detailed(room.id, client=dan, body=models.NewMessage(text="one more"))
    refused(limited, models, HTTPStatus.TOO_MANY_REQUESTS, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0
