"""The messenger adapter's own OpenAPI document (/api/messenger/openapi.json): a client generated
from it (openapi-python-client) drives every operation against the real server, refusals too,
each answer parsed into its typed `{"Message", "Data"}` model; generating it warns of nothing."""
from __future__ import annotations

import importlib
from datetime import datetime
from http import HTTPStatus

import pytest

from tests.helpers import PASSWORD
from tests.helpers.generated import fetch_document, generated_client, operations, warnings_in, with_body
from tests.helpers.server import Server

PACKAGE = "huddle_messenger_client"
M = "/api/messenger"
POSTS_PER_10_SECONDS = 5
LOGIN_FAILURES = 3
MEMBERS = ("kai", "lou", "max", "ned")  # registered by the server fixture
REGISTRATIONS = len(MEMBERS) + 3  # sign-up attempts: the fixture's, then ora, kai (taken) and pat

OPERATIONS = {
    "createUser": ("post", f"{M}/user"),
    "login": ("post", f"{M}/user/login"),
    "logout": ("post", f"{M}/user/logout"),
    "getUser": ("get", f"{M}/user/{{username}}"),
    "startConversation": ("post", f"{M}/conversation"),
    "listConversations": ("get", f"{M}/conversation"),
    "sendMessage": ("post", f"{M}/message"),
    "editMessage": ("put", f"{M}/message"),
    "deleteMessage": ("delete", f"{M}/message/{{message_id}}"),
    "listMessages": ("get", f"{M}/message/{{conversation_id}}"),
    "addReaction": ("put", f"{M}/message/{{message_id}}/reaction/{{emoji}}"),
    "removeReaction": ("delete", f"{M}/message/{{message_id}}/reaction/{{emoji}}"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("messenger"), HUDDLE_POSTS_PER_10_SECONDS=str(POSTS_PER_10_SECONDS),
                    HUDDLE_LOGIN_FAILURES_PER_USER=str(LOGIN_FAILURES),
                    HUDDLE_REGISTRATIONS_PER_ADDRESS_PER_HOUR=str(REGISTRATIONS))
    # root administers; kai and lou write to each other; max posts until limited; ned is locked out.
    server.create_user("root", PASSWORD, admin=True)
    for name in MEMBERS:
        server.api("POST", f"{M}/user", body={"Username": name, "Password": PASSWORD})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def document(server) -> dict:
    return fetch_document(f"{server.url}{M}/openapi.json")


@pytest.fixture(scope="module")
def generated(document, tmp_path_factory):
    with generated_client(document, tmp_path_factory.mktemp("generated"), PACKAGE) as found:
        yield found


@pytest.fixture(scope="module")
def api(generated):
    return operations(generated[1], OPERATIONS, tag="default")


@pytest.fixture(scope="module")
def models(generated):
    return importlib.import_module(f"{PACKAGE}.models")


@pytest.fixture(scope="module")
def connect(server, generated, api, models):
    """connect("kai") -> an AuthenticatedClient with a token from the generated login."""
    package = generated[1]

    def connect(username: str | None = None, token: str | None = None, **httpx_args):
        if username is not None:
            answer = api["login"].sync_detailed(client=anonymous(),
                                                body=models.Credentials(username=username, password=PASSWORD))
            assert answer.status_code == HTTPStatus.OK, answer.content
            token = answer.parsed.data
        return package.AuthenticatedClient(base_url=server.url, token=token, raise_on_unexpected_status=True,
                                           httpx_args=httpx_args)

    def anonymous(**httpx_args):
        return package.Client(base_url=server.url, raise_on_unexpected_status=True, httpx_args=httpx_args)

    connect.anonymous = anonymous
    return connect


def refused(answer, models, status: HTTPStatus) -> str:
    """The answer is this error, parsed into the messenger's Error model; its message."""
    assert answer.status_code == status, (answer.status_code, answer.content)
    assert isinstance(answer.parsed, models.Error), answer.parsed
    assert answer.parsed.data is None and answer.parsed.message
    return answer.parsed.message


def test_the_client_is_generated_without_a_warning(generated, document):
    output, package = generated
    assert not warnings_in(output), output
    found = {op["operationId"]: (method, path) for path, methods in document["paths"].items()
             for method, op in methods.items()}
    assert found == OPERATIONS
    assert document["info"]["title"] == "Huddle messenger API"
    assert {op["security"] == [] for op in document["paths"][f"{M}/user"].values()} == {True}
    errors = {response["$ref"] for methods in document["paths"].values() for op in methods.values()
              for status, response in op["responses"].items() if int(status) >= 400}
    assert {document["components"]["responses"][ref.rsplit("/", 1)[1]]["content"]["application/json"]["schema"]["$ref"]
            for ref in errors} == {"#/components/schemas/Error"}


def test_accounts(api, models, connect):
    nobody = connect.anonymous()
    made = api["createUser"].sync_detailed(client=nobody, body=models.NewUser(username="ora", password=PASSWORD))
    assert made.status_code == HTTPStatus.CREATED and isinstance(made.parsed, models.TokenReply)
    assert made.parsed.message == "User Created" and made.parsed.data.count(".") == 2
    taken = api["createUser"].sync_detailed(client=nobody, body=models.NewUser(username="kai", password=PASSWORD))
    refused(taken, models, HTTPStatus.UNPROCESSABLE_ENTITY)
    as_text = connect.anonymous(**with_body("text/plain"))
    refused(api["createUser"].sync_detailed(client=as_text, body=models.NewUser(username="pat", password=PASSWORD)),
            models, HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
    unreadable = connect.anonymous(**with_body(body=b'{"Username": "\xff"}'))
    refused(api["createUser"].sync_detailed(client=unreadable, body=models.NewUser(username="?", password="?")),
            models, HTTPStatus.BAD_REQUEST)
    last = api["createUser"].sync_detailed(client=nobody, body=models.NewUser(username="pat", password=PASSWORD))
    assert last.status_code == HTTPStatus.CREATED
    limited = api["createUser"].sync_detailed(client=nobody, body=models.NewUser(username="quin", password=PASSWORD))
    refused(limited, models, HTTPStatus.TOO_MANY_REQUESTS)
    assert int(limited.headers["Retry-After"]) > 0

    kai = connect(token=api["login"].sync_detailed(
        client=nobody, body=models.Credentials(username="kai", password=PASSWORD)).parsed.data)
    lou = api["getUser"].sync_detailed("lou", client=kai)
    assert isinstance(lou.parsed, models.UserReply) and lou.parsed.message == "User Found"
    assert lou.parsed.data.username == "lou" and isinstance(lou.parsed.data.created, datetime)
    assert isinstance(lou.parsed.data.logged_on, bool)
    refused(api["getUser"].sync_detailed("nobody-here", client=kai), models, HTTPStatus.NOT_FOUND)

    out = api["logout"].sync_detailed(client=kai)
    assert isinstance(out.parsed, models.DoneReply) and out.parsed.message == "Logged Out"
    assert out.parsed.data is None
    assert "JWT" in refused(api["getUser"].sync_detailed("lou", client=kai), models, HTTPStatus.UNAUTHORIZED)
    refused(api["logout"].sync_detailed(client=kai), models, HTTPStatus.UNAUTHORIZED)


def test_failed_logins_are_limited(api, models, connect):
    nobody = connect.anonymous()
    for _ in range(LOGIN_FAILURES):
        wrong = api["login"].sync_detailed(client=nobody, body=models.Credentials(username="ned", password="nope"))
        refused(wrong, models, HTTPStatus.UNPROCESSABLE_ENTITY)
    limited = api["login"].sync_detailed(client=nobody, body=models.Credentials(username="ned", password=PASSWORD))
    assert "Too many" in refused(limited, models, HTTPStatus.TOO_MANY_REQUESTS)
    huge = models.Credentials(username="ned", password="x" * (1024 * 1024 + 1))
    refused(api["login"].sync_detailed(client=nobody, body=huge), models, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


def test_conversations_and_messages(api, models, connect):
    kai, lou, root = connect("kai"), connect("lou"), connect("root")
    made = api["startConversation"].sync_detailed(client=kai, body=models.NewConversation(recipient="lou"))
    assert made.status_code == HTTPStatus.CREATED and isinstance(made.parsed, models.ConversationReply)
    assert made.parsed.message == "Conversation Created" and made.parsed.data.users == ["kai", "lou"]
    conversation_id = made.parsed.data.conversation_id
    again = api["startConversation"].sync_detailed(client=lou, body=models.NewConversation(recipient="kai"))
    assert again.status_code == HTTPStatus.OK and again.parsed.message == "Conversation Found"
    assert again.parsed.data.conversation_id == conversation_id
    nobody = api["startConversation"].sync_detailed(client=kai, body=models.NewConversation(recipient="zed"))
    refused(nobody, models, HTTPStatus.UNPROCESSABLE_ENTITY)
    mine = api["listConversations"].sync_detailed(client=lou)
    assert isinstance(mine.parsed, models.ConversationsReply)
    assert [(c.conversation_id, c.users) for c in mine.parsed.data] == [(conversation_id, ["kai", "lou"])]

    sent = api["sendMessage"].sync_detailed(client=kai, body=models.NewMessage(conversation_id=conversation_id,
                                                                               message="hi lou"))
    assert sent.status_code == HTTPStatus.CREATED and isinstance(sent.parsed, models.MessageRefReply)
    message_id = sent.parsed.data.message_id
    api["sendMessage"].sync_detailed(client=lou, body=models.NewMessage(conversation_id=conversation_id,
                                                                        message="hi kai"))
    listed = api["listMessages"].sync_detailed(conversation_id, client=lou)
    assert isinstance(listed.parsed, models.MessagesReply) and listed.parsed.message == "Messages Found"
    assert [(m.user, m.message) for m in listed.parsed.data] == [("kai", "hi lou"), ("lou", "hi kai")]
    assert isinstance(listed.parsed.data[0].created, datetime) and listed.parsed.data[0].edited is None
    refused(api["listMessages"].sync_detailed(conversation_id, client=root), models, HTTPStatus.NOT_FOUND)

    reacted = api["addReaction"].sync_detailed(message_id, "👍", client=lou)
    assert isinstance(reacted.parsed, models.MessageReply) and reacted.parsed.message == "Reaction Added"
    assert [(r.emoji, r.count, r.users) for r in reacted.parsed.data.reactions] == [("👍", 1, ["lou"])]
    listed = api["listMessages"].sync_detailed(conversation_id, client=kai)
    assert [(r.emoji, r.users) for r in listed.parsed.data[0].reactions] == [("👍", ["lou"])]
    refused(api["addReaction"].sync_detailed(message_id, "👍", client=root), models, HTTPStatus.NOT_FOUND)
    refused(api["addReaction"].sync_detailed(message_id, "not-an-emoji", client=lou), models,
            HTTPStatus.UNPROCESSABLE_ENTITY)
    taken_back = api["removeReaction"].sync_detailed(message_id, "👍", client=lou)
    assert taken_back.parsed.message == "Reaction Removed" and taken_back.parsed.data.reactions == []

    edited = api["editMessage"].sync_detailed(client=kai, body=models.MessageEdit(message_id=message_id,
                                                                                  message="hi lou!"))
    assert isinstance(edited.parsed, models.MessageRefReply) and edited.parsed.data.message_id == message_id
    assert edited.parsed.message == "Message Updated"
    not_his = api["editMessage"].sync_detailed(client=lou, body=models.MessageEdit(message_id=message_id,
                                                                                   message="mine"))
    refused(not_his, models, HTTPStatus.FORBIDDEN)
    missing = api["editMessage"].sync_detailed(client=kai, body=models.MessageEdit(message_id=999999, message="?"))
    refused(missing, models, HTTPStatus.NOT_FOUND)

    refused(api["deleteMessage"].sync_detailed(message_id, client=lou), models, HTTPStatus.FORBIDDEN)
    deleted = api["deleteMessage"].sync_detailed(message_id, client=kai)
    assert isinstance(deleted.parsed, models.DoneReply) and deleted.parsed.message == "Message Deleted"
    refused(api["deleteMessage"].sync_detailed(message_id, client=kai), models, HTTPStatus.NOT_FOUND)
    refused(api["listConversations"].sync_detailed(client=connect(token="x")), models, HTTPStatus.UNAUTHORIZED)


def test_sending_refusals(api, models, connect):
    max_, kai = connect("max"), connect("kai")
    found = api["startConversation"].sync_detailed(client=max_, body=models.NewConversation(recipient="lou"))
    conversation_id = found.parsed.data.conversation_id

    def message(text: str):
        return models.NewMessage(conversation_id=conversation_id, message=text)

    refused(api["sendMessage"].sync_detailed(client=kai, body=message("hi")), models, HTTPStatus.NOT_FOUND)
    refused(api["sendMessage"].sync_detailed(client=max_, body=message("  ")), models,
            HTTPStatus.UNPROCESSABLE_ENTITY)
    refused(api["sendMessage"].sync_detailed(client=max_, body=message("x" * (1024 * 1024 + 1))), models,
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    as_text = connect(token=max_.token, **with_body("text/plain"))
    refused(api["sendMessage"].sync_detailed(client=as_text, body=message("?")), models,
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
    unreadable = connect(token=max_.token, **with_body(body=b'{"Message": "\xff"}'))
    refused(api["sendMessage"].sync_detailed(client=unreadable, body=message("?")), models, HTTPStatus.BAD_REQUEST)
    for n in range(POSTS_PER_10_SECONDS):
        assert api["sendMessage"].sync_detailed(client=max_, body=message(f"{n}")).status_code == HTTPStatus.CREATED
    limited = api["sendMessage"].sync_detailed(client=max_, body=message("one more"))
    refused(limited, models, HTTPStatus.TOO_MANY_REQUESTS)
    assert int(limited.headers["Retry-After"]) > 0
