"""Schemathesis against the API's own OpenAPI document (and the messenger adapter's), on the real
server (Hypercorn): for every operation, generated requests (valid and not) never get a 5xx, and
every answer matches what the document says of it (its schema, its content type). Bounded: a
fixed number of examples each."""
from __future__ import annotations

import json
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.helpers import PASSWORD
from tests.helpers.server import Server

EXAMPLES = 25  # per operation: about 350 requests in all, a few seconds


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # Generous limits: the fuzzing itself must not be what is throttled.
    server = Server(tmp_path_factory.mktemp("schema"), HUDDLE_POSTS_PER_10_SECONDS="100000",
                    HUDDLE_REGISTRATIONS_PER_ADDRESS_PER_HOUR="100000", HUDDLE_LOGIN_FAILURES_PER_USER="100000",
                    HUDDLE_LOGIN_FAILURES_PER_IP="100000")
    server.create_user("fuzz", PASSWORD, admin=True)
    server.create_user("other", PASSWORD)
    yield server
    server.stop()


def token(server) -> str:
    request = urllib.request.Request(f"{server.url}/api/v1/login", method="POST",
                                     data=json.dumps({"username": "fuzz", "password": PASSWORD}).encode(),
                                     headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request))["data"]["token"]


def fuzz(server, operation, mode, logout: bool) -> None:
    bearer = token(server)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def check(case):
        # Logging out ends the token it is sent with: that operation gets a fresh one each time.
        sent = token(server) if logout else bearer
        case.call_and_validate(
            base_url=server.url, headers={"Authorization": f"Bearer {sent}"},
            checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
        )

    check()


@pytest.fixture(scope="module")
def api_schema(server):
    return schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")


OPERATIONS = [
    ("POST", "/api/v1/users"), ("POST", "/api/v1/login"), ("POST", "/api/v1/logout"), ("GET", "/api/v1/me"),
    ("PATCH", "/api/v1/me"),
    ("GET", "/api/v1/users/{username}"), ("GET", "/api/v1/conversations"), ("POST", "/api/v1/conversations"),
    ("GET", "/api/v1/conversations/{conversation_id}"),
    ("GET", "/api/v1/conversations/{conversation_id}/messages"),
    ("POST", "/api/v1/conversations/{conversation_id}/messages"),
    ("POST", "/api/v1/conversations/{conversation_id}/read"),
    ("PATCH", "/api/v1/messages/{message_id}"), ("DELETE", "/api/v1/messages/{message_id}"),
    ("PUT", "/api/v1/messages/{message_id}/reactions/{emoji}"),
    ("DELETE", "/api/v1/messages/{message_id}/reactions/{emoji}"),
    ("DELETE", "/api/v1/messages/{message_id}/preview"), ("GET", "/api/v1/messages/{message_id}/preview/image"),
    ("PATCH", "/api/v1/conversations/{conversation_id}"), ("DELETE", "/api/v1/conversations/{conversation_id}"),
    ("GET", "/api/v1/search"),
    ("POST", "/api/v1/messages/{message_id}/thread"), ("GET", "/api/v1/threads"),
    ("PUT", "/api/v1/threads/{thread_id}/follow"), ("DELETE", "/api/v1/threads/{thread_id}/follow"),
    ("GET", "/api/v1/mentions"),
    ("GET", "/api/v1/conversations/{conversation_id}/notifications"),
    ("PUT", "/api/v1/conversations/{conversation_id}/notifications"),
    ("GET", "/api/v1/push/key"), ("POST", "/api/v1/push/subscriptions"), ("DELETE", "/api/v1/push/subscriptions"),
    ("POST", "/api/v1/uploads"), ("GET", "/api/v1/files/{token}"), ("GET", "/api/v1/files/{token}/preview"),
]


# Nothing to send wrong: no parameters, no body, no token (its valid requests are fuzzed).
NOTHING_TO_BREAK = {("GET", "/api/v1/push/key")}
CASES = [(method, path, mode) for method, path in OPERATIONS
         for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if mode == GenerationMode.POSITIVE or (method, path) not in NOTHING_TO_BREAK]


@pytest.mark.parametrize("method, path, mode", CASES, ids=[
    f"{m} {p}-{'valid' if mode == GenerationMode.POSITIVE else 'invalid'}" for m, p, mode in CASES])
def test_the_api_keeps_to_its_document(server, api_schema, method, path, mode):
    """Requests that follow the document, and requests that break it (wrong types, missing
    fields, values out of range): never a 5xx, and every answer as documented."""
    fuzz(server, api_schema[path][method], mode, logout=path == "/api/v1/logout")


def test_every_api_operation_is_in_the_document(server):
    document = json.load(urllib.request.urlopen(f"{server.url}/api/v1/openapi.json"))
    operations = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    assert operations == set(OPERATIONS)
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


MESSENGER_OPERATIONS = [
    ("POST", "/api/messenger/user"), ("POST", "/api/messenger/user/login"), ("POST", "/api/messenger/user/logout"),
    ("GET", "/api/messenger/user/{username}"), ("POST", "/api/messenger/conversation"),
    ("GET", "/api/messenger/conversation"), ("POST", "/api/messenger/message"), ("PUT", "/api/messenger/message"),
    ("DELETE", "/api/messenger/message/{message_id}"), ("GET", "/api/messenger/message/{conversation_id}"),
    ("PUT", "/api/messenger/message/{message_id}/reaction/{emoji}"),
    ("DELETE", "/api/messenger/message/{message_id}/reaction/{emoji}"),
]


@pytest.fixture(scope="module")
def messenger_schema(server):
    return schemathesis.openapi.from_url(f"{server.url}/api/messenger/openapi.json")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("method, path", MESSENGER_OPERATIONS, ids=[f"{m} {p}" for m, p in MESSENGER_OPERATIONS])
def test_the_messenger_api_keeps_to_its_own_document(server, messenger_schema, method, path, mode):
    """The adapter has a document of its own (/api/messenger/openapi.json), kept the same way."""
    fuzz(server, messenger_schema[path][method], mode, logout=path == "/api/messenger/user/logout")


def test_every_messenger_operation_is_in_its_document(server):
    document = json.load(urllib.request.urlopen(f"{server.url}/api/messenger/openapi.json"))
    operations = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    assert operations == set(MESSENGER_OPERATIONS)
