"""Schemathesis against the API's own OpenAPI document, on the real server (Hypercorn): for every
operation, generated requests (valid and not) never get a 5xx, and every answer matches what the
document says of it (its schema, its content type). Bounded: a fixed number of examples each."""
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


@pytest.fixture(scope="module")
def api_schema(server):
    return schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")


OPERATIONS = [
    ("POST", "/api/v1/users"), ("POST", "/api/v1/login"), ("POST", "/api/v1/logout"), ("GET", "/api/v1/me"),
    ("GET", "/api/v1/users/{username}"), ("GET", "/api/v1/conversations"), ("POST", "/api/v1/conversations"),
    ("GET", "/api/v1/conversations/{conversation_id}"),
    ("GET", "/api/v1/conversations/{conversation_id}/messages"),
    ("POST", "/api/v1/conversations/{conversation_id}/messages"),
    ("POST", "/api/v1/conversations/{conversation_id}/read"),
    ("PATCH", "/api/v1/messages/{message_id}"), ("DELETE", "/api/v1/messages/{message_id}"),
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_the_api_keeps_to_its_document(server, api_schema, method, path, mode):
    """Requests that follow the document, and requests that break it (wrong types, missing
    fields, values out of range): never a 5xx, and every answer as documented."""
    operation = api_schema[path][method]
    bearer = token(server)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def check(case):
        # Logging out ends the token it is sent with: that operation gets a fresh one each time.
        sent = token(server) if path == "/api/v1/logout" else bearer
        case.call_and_validate(
            base_url=server.url, headers={"Authorization": f"Bearer {sent}"},
            checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
        )

    check()


def test_every_api_operation_is_in_the_document(server):
    document = json.load(urllib.request.urlopen(f"{server.url}/api/v1/openapi.json"))
    operations = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    assert operations == set(OPERATIONS)
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
