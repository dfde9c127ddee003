"""URLs of this site: built by endpoint name (STYLE.md habit 12), and where a link may send
someone after login (only a path on this site)."""
from __future__ import annotations

import errno
from typing import Any
from urllib.parse import urlsplit

from quart import Quart, current_app
from quart.globals import _cv_app, _cv_request, _cv_websocket
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter, MapAdapter

from app.web import assets

MAX_LENGTH = 2000


def elsewhere(value: object) -> str:
    """A link to another site, as a template writes it (`href="{{ url|elsewhere }}"`): the URL if
    it is http or https with a host, else "" (a link to this very page). What a message or a page
    it links says is never an app path nor a `javascript:` URL in Huddle's own markup."""
    if not isinstance(value, str):
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    return value if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


def safe_next(target: str | None) -> str | None:
    """A same-site path to follow, or None (the caller then goes to "/").

    Judged the way a browser will read it (WHATWG URL parsing): browsers drop tabs and line
    breaks anywhere, trim control characters and spaces at the ends, and read a backslash as
    a slash, so "/\\t/evil.example" and "/\\\\evil.example" both mean "//evil.example", another
    site. Rather than guess which odd character is harmless, a path with any control
    character, any whitespace or any backslash is refused.
    """
    if not target or len(target) > MAX_LENGTH:
        return None
    if any(ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F or ch == "\\" for ch in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


# Record ids are 32-bit signed integers in the database (users, conversations, ...): anything
# larger names nothing, and on PostgreSQL would fail as out of range. Event numbers (seq) are
# 64-bit.
MAX_ID = 2**31 - 1
MAX_SEQ = 2**63 - 1


class IdConverter(BaseConverter):
    """`<int:…>` in every route: ASCII digits only (werkzeug's `\\d` also takes other scripts'
    digits), at most 19 of them. A value past the database's range becomes 0, which names no
    row, so the view answers its own 404 (a converter that refused it would give a 405)."""

    regex = r"[0-9]{1,19}"
    weight = 50

    def to_python(self, value: str) -> int:
        number = int(value)
        return number if number <= MAX_ID else 0

    def to_url(self, value: int) -> str:
        return str(int(value))


def id_param(raw: str | None) -> int | None:
    """A cursor or id from a query string (`?before=`): a valid id, or None to ignore it."""
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


def is_api_path(path: str) -> bool:
    """The JSON API: bearer tokens only, never the cookie (and so no CSRF token either)."""
    return path == "/api" or path.startswith("/api/")


class HuddleApp(Quart):
    """Quart, able to build URLs with no request: by the configured base URL (HUDDLE_BASE_URL),
    as SERVER_NAME would, without SERVER_NAME's refusal of every other Host."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.paths: dict[tuple, str] = {}  # path_for's answers

    def create_url_adapter(self, request: Any) -> MapAdapter | None:
        if request is None and self.config["SERVER_NAME"] is None:
            return site_adapter(self)
        return super().create_url_adapter(request)

    async def send_static_file(self, filename: str) -> Any:
        """A static file from memory, under its versioned URL (app/web/assets.py). A name the file
        system cannot even look up (longer than a file name may be) names no file: 404, like any
        other missing one (it was an OSError, a 500)."""
        response = await assets.send(self, filename)
        if response is not None:
            return response
        try:
            response = await super().send_static_file(filename)
        except OSError as error:
            if error.errno in (errno.ENAMETOOLONG, errno.EINVAL, errno.ELOOP):
                raise NotFound() from None
            raise
        response.headers["Cache-Control"] = assets.SHORT  # a file added since the start: no hash yet
        return response


def site_adapter(app: Quart) -> MapAdapter:
    """The URL map bound to the base URL: its scheme, host and path prefix."""
    parts = urlsplit(app.config["HUDDLE"].base_url)
    return app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)


MAX_PATHS = 20_000


def path_for(endpoint: str, **values: Any) -> str:
    """`url_for` in templates: always a path, never scheme and host, in a request or outside one
    (a fragment rendered once for every viewer must read the same for all of them).

    Remembered: a page builds dozens (a sidebar row each), werkzeug takes several microseconds
    a build, and the same rooms and people come back on every page. A path depends only on the
    endpoint, the values and the prefix the site is served under (the routes never change)."""
    values.setdefault("_external", False)
    context = _cv_request.get(None) or _cv_websocket.get(None) or _cv_app.get(None)
    adapter = context.url_adapter if context is not None else None
    if adapter is None:
        return current_app.url_for(endpoint, **values)  # says why it cannot
    paths = context.app.paths
    try:
        return paths[adapter.script_name, endpoint, *values.items()]
    except KeyError:
        pass
    except TypeError:  # an unhashable value (a list for a repeated query argument): not remembered
        return context.app.url_for(endpoint, **values)
    if len(paths) >= MAX_PATHS:
        paths.clear()
    path = paths[adapter.script_name, endpoint, *values.items()] = context.app.url_for(endpoint, **values)
    return path


def external_url(endpoint: str, **values: Any) -> str:
    """A whole URL for use away from the site (a link in an e-mail): always on the base URL,
    whichever Host the request that made it came in by."""
    return site_adapter(current_app).build(endpoint, values, force_external=True)
