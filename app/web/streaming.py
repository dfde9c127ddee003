"""Routes that read a multipart body as it streams in (uploads): marked `@streams_body`.

Every other request keeps Quart's body limit (MAX_CONTENT_LENGTH, 1 MiB): a body past it is
refused before it is read. For a marked route the limit is decided before the first byte is
buffered (the request is made here, by the ASGI connection), to what its uploads allow
(`body_limit`); the route's reader (app/files/forms.py) then refuses each file past its own
limit as it arrives. A multipart form read as it streams cannot also be read whole by the CSRF
check: without the X-CSRF-Token header, the check leaves the token to that reader, which compares
the form's csrf_token field before keeping anything (app/web/security.py)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from quart import Quart, current_app, request
from quart.asgi import ASGIHTTPConnection
from werkzeug.exceptions import HTTPException

OVERHEAD = 1024 * 1024  # a form's fields and its parts' headers, beside the files
MAX_FILES = 10  # files one form may carry (a message's attachments)


def streams_body(view: Callable) -> Callable:
    """Mark a view that reads its own multipart body as it streams (app/files/forms.py)."""
    view.streams_body = True
    return view


def body_limit(app: Quart) -> int:
    """The most a streamed form may carry: ten files at the upload limit, and its fields."""
    return app.config["HUDDLE"].upload_max_bytes * MAX_FILES + OVERHEAD


def _streamed(app: Quart, req: Any) -> bool:
    if req.method != "POST" or req.mimetype != "multipart/form-data":
        return False
    try:
        rule, _ = app.create_url_adapter(req).match(return_rule=True)
    except HTTPException:
        return False
    return getattr(app.view_functions.get(rule.endpoint), "streams_body", False)


def is_streamed() -> bool:
    """This request is a multipart form for a route that reads it as it streams."""
    return _streamed(current_app, request)


class StreamingConnection(ASGIHTTPConnection):
    """Quart's HTTP connection, making the request's body with the limit its route allows."""

    def _create_request_from_scope(self, send):  # noqa: ANN001, ANN202 - Quart's signature
        made = super()._create_request_from_scope(send)
        if _streamed(self.app, made):
            made.body = made.body_class(made.content_length, body_limit(self.app))
        return made


def init_app(app: Quart) -> None:
    app.asgi_http_class = StreamingConnection
