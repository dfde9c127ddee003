"""The OpenAPI documents of /api/v1 (/api/v1/openapi.json) and of the messenger adapter
(/api/messenger/openapi.json), shaped for client generators.

quart-schema inlines each operation's request and answer schemas; here every one of them becomes a
shared component instead, referenced by `$ref`: one `Error` schema behind one response per error
status (components/responses), one envelope per payload (`MessageEnvelope`, ...), one schema per
request body. Operation ids are the views' `operation_id` (camelCase verbs: sendMessage), unique.
Two models under one name with different shapes are a programming error: the document refuses."""
from __future__ import annotations

from http import HTTPStatus
from typing import Any

from quart import Blueprint, current_app
from quart_schema import OpenAPIProvider, hide
from quart_schema.openapi import QUART_SCHEMA_OPERATION_ID_ATTRIBUTE
from quart_schema.validation import QUART_SCHEMA_RESPONSE_ATTRIBUTE
from werkzeug.routing import Rule

from app.api import messenger_schemas
from app.api.schemas import ErrorBody
from app.web.urls import MAX_ID, IdConverter

OPENAPI_PATH = "/api/v1/openapi.json"
MESSENGER_OPENAPI_PATH = "/api/messenger/openapi.json"
SCHEMAS = "#/components/schemas/"
RESPONSES = "#/components/responses/"

# One shared response per error status: its name in components/responses, and what it means.
ERROR_RESPONSES: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "The body could not be read (not JSON, not UTF-8, nested too deep)."),
    401: ("Unauthorized", "No valid token: send `Authorization: Bearer <token>` (logging in gives one)."),
    403: ("Forbidden", "Not allowed: not yours to change, or registration closed to you."),
    404: ("NotFound", "No such thing, or not one you can see."),
    409: ("Conflict", "It cannot be done in the state things are in now."),
    413: ("TooLarge", "The body is larger than Huddle accepts."),
    415: ("UnsupportedMediaType", "Send JSON, with `Content-Type: application/json`."),
    422: ("Invalid", "Some values are not valid: `error.fields` has a message per field."),
    429: ("RateLimited", "Too many requests: wait `Retry-After` seconds, then try again."),
}
ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "`Bearer realm=\"huddle\"`", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}},
}


def camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


class HuddleOpenAPI(OpenAPIProvider):
    """The document describes /api/v1's REST endpoints only (not the pages, not the adapter)."""

    path_prefix = "/api/v1/"
    endpoint_prefix = "api."
    error_model: type = ErrorBody
    error_schema_name = "Error"

    def schema(self) -> dict[str, Any]:
        self._components: dict[str, dict] = {}
        self._error_codes: set[int] = set()
        self._operation_ids: dict[str, str] = {}
        document = super().schema()
        if self._error_codes:
            error_ref = self._hoist(self._error_schema(), self.error_schema_name)
            document["components"]["responses"] = {
                ERROR_RESPONSES[code][0]: {
                    "description": ERROR_RESPONSES[code][1],
                    "content": {"application/json": {"schema": error_ref}},
                    **({"headers": ERROR_HEADERS[code]} if code in ERROR_HEADERS else {}),
                }
                for code in sorted(self._error_codes)
            }
        document["components"]["schemas"] = dict(sorted(self._components.items()))
        return document

    def _error_schema(self) -> dict:
        response, definitions = super().build_response_object(self.error_model, None)
        for name, definition in definitions.items():
            self._register(name, definition)
        return response["content"]["application/json"]["schema"]

    def _register(self, name: str, schema: dict) -> None:
        known = self._components.setdefault(name, schema)
        if known != schema:
            raise ValueError(f"two different schemas are both named {name!r} in the OpenAPI document")

    def _hoist(self, schema: dict, name: str | None = None) -> dict:
        """An inline object schema becomes a component named by its title; a `$ref` to it stays."""
        name = name or schema.get("title")
        if "$ref" in schema or not name or schema.get("type") != "object":
            return schema
        self._register(name, {**schema, "title": name})
        return {"$ref": SCHEMAS + name}

    def generate_rules(self):
        for rule in super().generate_rules():
            if rule.rule.startswith(self.path_prefix) and rule.endpoint.startswith(self.endpoint_prefix):
                yield rule

    def build_paths(self, rule: Rule):
        paths, components = super().build_paths(rule)
        for name, definition in components.items():
            self._register(name, definition)
        func = self._app.view_functions[rule.endpoint]
        models = getattr(func, QUART_SCHEMA_RESPONSE_ATTRIBUTE, {})
        for operation in next(iter(paths.values())).values():
            responses = {}
            for code, response in sorted(operation["responses"].items()):
                if models.get(code, (None,))[0] is self.error_model:
                    self._error_codes.add(code)
                    response = {"$ref": RESPONSES + ERROR_RESPONSES[code][0]}
                elif not response.get("description"):
                    response = {**response, "description": HTTPStatus(code).phrase}
                responses[str(code)] = response
            operation["responses"] = responses
            if "requestBody" in operation and not getattr(func, "body_optional", False):
                operation["requestBody"]["required"] = True
            if getattr(func, "public", False):
                operation["security"] = []  # no token needed (registering, logging in)
            else:
                operation.setdefault("security", [{"bearer": []}])
        return paths, {}

    def build_request_body(self, model, source):
        body, definitions = super().build_request_body(model, source)
        for content in body["content"].values():
            content["schema"] = self._hoist(content["schema"])
        return body, definitions

    def build_response_object(self, model, headers_model):
        response, definitions = super().build_response_object(model, headers_model)
        if model is not self.error_model:
            content = response["content"]["application/json"]
            content["schema"] = self._hoist(content["schema"])
        return response, definitions

    def build_path_parameter(self, name, converter):
        if isinstance(converter, IdConverter):
            return {"name": name, "in": "path", "required": True,
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
        return super().build_path_parameter(name, converter)

    def generate_methods(self, rule: Rule):
        return [method for method in super().generate_methods(rule) if method not in {"HEAD", "OPTIONS"}]

    def operation_id(self, method, path, func):
        """The view's own (`@operation_id("sendMessage")`), else method and function name; unique."""
        name = getattr(func, QUART_SCHEMA_OPERATION_ID_ATTRIBUTE, None) or camel(f"{method.lower()}_{func.__name__}")
        where = f"{method.upper()} {path}"
        if self._operation_ids.setdefault(name, where) != where:
            raise ValueError(f"operationId {name!r} is used by {self._operation_ids[name]} and {where}")
        return name


class MessengerOpenAPI(HuddleOpenAPI):
    """The messenger adapter's REST endpoints (app/api/messenger_schemas.py describes them), with
    its own error shape: the same way, a document of its own."""

    path_prefix = "/api/messenger/"
    endpoint_prefix = "messenger."
    error_model = messenger_schemas.Error

    def schema(self) -> dict[str, Any]:
        document = super().schema()
        document["info"] = {
            "title": "Huddle messenger API", "version": "1",
            "description": "The messenger API as that Go messenger's clients call it: every answer is "
                           "`{\"Message\", \"Data\"}`. Huddle's own API is /api/v1 (see /docs/api).",
        }
        return document


bp = Blueprint("openapi", __name__)


@bp.get(MESSENGER_OPENAPI_PATH)
@hide
async def messenger_document() -> dict:
    app = current_app._get_current_object()
    return MessengerOpenAPI(app, app.extensions["QUART_SCHEMA"]).schema()


__all__ = ["MESSENGER_OPENAPI_PATH", "OPENAPI_PATH", "HuddleOpenAPI", "MessengerOpenAPI", "bp"]
