"""Error pages in the site layout; htmx requests that need a login are sent to it. A part of the
site with its own kind of answer (the JSON API) registers a renderer for its path prefix
(ErrorPages.answer_under), so this module imports no feature."""
from __future__ import annotations

import logging
from collections.abc import Callable

import asyncpg
from quart import Quart, Response, has_websocket_context, render_template, request, url_for
from tortoise.exceptions import DBConnectionError
from werkzeug.exceptions import HTTPException

from app.web.forms import Form
from app.web.htmx import is_htmx
from app.web.urls import safe_next  # noqa: F401 - re-exported for the login view

log = logging.getLogger("huddle.errors")

# (status, message or None) -> the answer, for paths that are not the site's HTML pages.
Renderer = Callable[[int, str | None], Response]


class ErrorPages:
    """Who answers an error on a path: a renderer registered for its prefix (the longest that
    matches), else the site's HTML error page."""

    def __init__(self) -> None:
        self._by_prefix: list[tuple[str, Renderer]] = []

    def answer_under(self, prefix: str, renderer: Renderer) -> None:
        """Errors at `prefix` and below it (`/api` covers `/api` and `/api/…`) go to renderer."""
        self._by_prefix.append((prefix.rstrip("/"), renderer))
        self._by_prefix.sort(key=lambda entry: len(entry[0]), reverse=True)

    def renderer_for(self, path: str) -> Renderer | None:
        for prefix, renderer in self._by_prefix:
            if path == prefix or path.startswith(prefix + "/"):
                return renderer
        return None

# Errors that mean "the database cannot be reached", as opposed to a bug: they get a 503.
UNREACHABLE: tuple[type[BaseException], ...] = (
    DBConnectionError,
    ConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.PostgresConnectionError,
)

TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    413: "Too large",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}

MESSAGES = {
    401: "You need to log in to see this page.",
    403: "You do not have permission to do that.",
    404: "There is nothing at this address. It may have been deleted, or the link may be wrong.",
    413: "What you sent is larger than Huddle accepts.",
    500: "An unexpected error happened on our side. It has been logged; please try again.",
}


def here() -> str:
    """The page the user was on: for htmx, the page behind the fragment."""
    current = request.headers.get("HX-Current-URL")
    if current and is_htmx():
        from urllib.parse import urlsplit

        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.full_path.rstrip("?")


async def render_error(pages: ErrorPages, code: int, description: str | None = None) -> Response:
    if not has_websocket_context() and (own := pages.renderer_for(request.path)):
        return own(code, description if code != 500 else None)
    if has_websocket_context():
        # A refused websocket handshake: a plain HTTP answer, no page.
        return Response(TITLES.get(code, "Error"), status=code, content_type="text/plain")
    if code == 401 and is_htmx():
        # A fragment swapped into a page would be wrong here: go to the login page itself.
        response = Response("", status=401)
        response.headers["HX-Redirect"] = url_for("accounts.login", next=here())
        return response
    message = description if description and code != 500 else MESSAGES.get(code, "")
    body = await render_template(
        "errors/error.html",
        code=code,
        title=TITLES.get(code, "Error"),
        message=message,
        next=safe_next(here()) if code == 401 else None,
        form=Form(),
    )
    return Response(body, status=code)


def init_app(app: Quart) -> ErrorPages:
    """The site's error handlers; returns the registry where other parts add their renderers."""
    pages = ErrorPages()

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException) -> Response:
        response = await render_error(pages, error.code or 500, _own_description(error))
        for header in ("Retry-After", "Allow"):
            if error.get_response().headers.get(header):
                response.headers[header] = error.get_response().headers[header]
        return response

    async def database_down(error: Exception) -> Response:
        # The database (or another service) cannot be reached: say so, and that it will pass.
        log.error("service unavailable: %s", error)
        response = await render_error(pages, 503, "Huddle cannot reach its database right now. Try again in a moment.")
        response.headers["Retry-After"] = "5"
        return response

    for kind in UNREACHABLE:
        app.register_error_handler(kind, database_down)

    @app.errorhandler(Exception)
    async def unexpected(error: Exception) -> Response:
        # The traceback goes to the log, never to the page.
        if has_websocket_context():
            log.exception("Unhandled error on a websocket")
        else:
            log.exception("Unhandled error on %s %r", request.method, request.path)
        return await render_error(pages, 500)

    return pages


def _own_description(error: HTTPException) -> str | None:
    """Use a description only when our code set one (werkzeug's defaults are too technical)."""
    default = type(error).description
    return error.description if error.description != default else None
