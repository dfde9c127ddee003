"""Where a link may send someone after login: only a path on this site."""
from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.routing import BaseConverter

MAX_LENGTH = 2000


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
