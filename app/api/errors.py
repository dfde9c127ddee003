"""Errors under /api as JSON, never HTML and never a traceback: unknown paths, wrong methods,
malformed or oversized bodies, refusals of the rules, rate limits, crashes and a lost database.

/api/v1 answers `{"error": {"code", "message", "fields"?}}`; the messenger adapter answers in its
own `{"Message", "Data": null}` shape. app/api/__init__.py registers them for their paths with the
site's error pages (app/web/errors.py), which otherwise answer in HTML."""
from __future__ import annotations

from collections.abc import Callable

from quart import Response, json
from quart_schema import RequestSchemaValidationError

from app.domain import Conflict, DomainError, Invalid, NotAllowed, NotFound, RateLimited, TooLarge

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
    500: "internal", 503: "unavailable",
}
MESSAGES = {
    400: "The request could not be read.",
    401: "Send a valid token: `Authorization: Bearer <token>` (POST /api/v1/login gives one).",
    403: "You may not do that.",
    404: "There is nothing at this address.",
    405: "This address does not take that method.",
    413: "What you sent is larger than Huddle accepts.",
    415: "Send JSON, with `Content-Type: application/json`.",
    429: "Too many requests: wait, then try again.",
    500: "An unexpected error happened on our side. It has been logged; please try again.",
    503: "Huddle cannot reach its database right now. Try again in a moment.",
}


UNREADABLE = "The body is not JSON that Huddle can read (UTF-8, nested at most a few hundred deep)."


def _dumps(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False)


def v1_error(status: int, message: str | None = None, fields: dict | None = None) -> Response:
    detail = {"code": CODES.get(status, "error"), "message": message or MESSAGES.get(status, "Error.")}
    if fields:
        detail["fields"] = fields
    return Response(_dumps({"error": detail}), status=status, content_type="application/json")


def messenger_error(status: int, message: str | None = None, fields: dict | None = None) -> Response:
    text = message or MESSAGES.get(status, "Error.")
    if fields:
        text = "; ".join(fields.values())
    return Response(_dumps({"Message": text, "Data": None}), status=status, content_type="application/json")


DOMAIN_STATUS: dict[type[DomainError], int] = {Invalid: 422, NotAllowed: 403, NotFound: 404, Conflict: 409,
                                               RateLimited: 429, TooLarge: 413}


def domain_error(error: DomainError, renderer: Callable[..., Response] = v1_error) -> Response:
    """A service's refusal, as the status its kind means."""
    status = next((code for kind, code in DOMAIN_STATUS.items() if isinstance(error, kind)), 400)
    response = renderer(status, error.message, getattr(error, "errors", None))
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def validation_fields(error: RequestSchemaValidationError) -> dict[str, str]:
    """pydantic's complaints as one message per field (`items.0` for list members)."""
    problem = error.validation_error
    fields: dict[str, str] = {}
    for item in getattr(problem, "errors", lambda: [])():
        name = ".".join(str(part) for part in item.get("loc", ())) or "body"
        fields.setdefault(name, item.get("msg", "Invalid value."))
    return fields or {"body": "Send a JSON object with the fields this endpoint describes."}


def init_blueprint(bp, renderer: Callable[..., Response]) -> None:
    @bp.errorhandler(DomainError)
    async def refused(error: DomainError) -> Response:
        return domain_error(error, renderer)

    @bp.errorhandler(RequestSchemaValidationError)
    async def invalid(error: RequestSchemaValidationError) -> Response:
        return renderer(422, "Some values are not valid.", validation_fields(error))


