"""Who is calling the API: the bearer token, resolved once per request (never the cookie)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from quart import Response, current_app, g, request
from quart_schema.validation import QUART_SCHEMA_REQUEST_ATTRIBUTE

from app.api import tokens
from app.models import User, UserSession


async def load_token() -> None:
    """before_request on the API blueprints."""
    g.api_session = await tokens.resolve(tokens.bearer(request.headers.get("Authorization")))


def current_session() -> UserSession | None:
    return g.get("api_session")


def current() -> User:
    return g.api_session.user


def token_required(unauthorized: Callable[[], Response]):
    def decorator(view: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @wraps(view)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.get("api_session") is None:
                response = unauthorized()
                response.headers["WWW-Authenticate"] = 'Bearer realm="huddle"'
                return response
            return await view(*args, **kwargs)

        wrapper.token_required = True
        return wrapper

    return decorator


def readable_body(refuse: Callable[[], Response]) -> Callable[[], Awaitable[Response | None]]:
    """before_request: parse a JSON body once, up front (the views get it from Quart's cache).
    Bytes that are not UTF-8, or nesting deeper than Python's parser goes, are a 400 here, not
    a crash later; other malformed JSON is Quart's 400."""
    async def check() -> Response | None:
        if request.method in {"POST", "PUT", "PATCH", "DELETE"} and request.is_json and await request.get_data():
            try:
                await request.get_json()
            except (UnicodeDecodeError, RecursionError):
                return refuse()
        return None

    return check


def body_optional(view):
    """Mark a view whose JSON body may be left out altogether."""
    view.body_optional = True
    return view


def json_body_required(refuse: Callable[[], Response]) -> Callable[[], Awaitable[Response | None]]:
    """before_request: an endpoint that reads a JSON body refuses any other kind (415), before
    validation could mistake it for an empty object."""
    async def check() -> Response | None:
        view = current_app.view_functions.get(request.endpoint or "")
        if view is None or getattr(view, QUART_SCHEMA_REQUEST_ATTRIBUTE, None) is None:
            return None
        if getattr(view, "body_optional", False) and not request.content_length:
            return None
        if getattr(view, "streams_body", False):
            return None  # a multipart upload, read as it streams (app/web/streaming.py)
        if getattr(view, "token_required", False) and g.get("api_session") is None:
            return None  # the view answers 401 first: who you are before what you sent
        if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
            return refuse()
        return None

    return check
