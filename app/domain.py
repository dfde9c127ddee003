"""What a use case (a service function) raises when it refuses: the HTML views turn these into
a form with errors (422) or an error page (403, 404, 409); the JSON API turns them into JSON.
Nothing here knows about HTTP."""
from __future__ import annotations


class DomainError(Exception):
    """A use case refused; `message` is fit to show the person who asked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(DomainError):
    """Some values are not acceptable: one message per field, like Form.errors."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = dict(errors)


class NotAllowed(DomainError):
    """This actor may not do this (to this target)."""


class NotFound(DomainError):
    """What the use case acts on does not exist (any more)."""


class Conflict(DomainError):
    """It cannot be done in the state things are in now."""


class TooLarge(DomainError):
    """What was sent is over a size limit (HTTP 413): an upload past HUDDLE_UPLOAD_MAX_BYTES, refused
    while it streams in. `errors` names the field, as Invalid's do."""

    def __init__(self, message: str, field: str = "file") -> None:
        super().__init__(message)
        self.errors = {field: message}


class RateLimited(DomainError):
    """Too many attempts for now: try again after `retry_after` seconds (HTTP 429 + Retry-After)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


# --- text that can be kept ---------------------------------------------------------------------
# One rule for every text a person sends that Huddle keeps, looks up or sends on (messages, names,
# topics, feedback, addresses, passwords): PostgreSQL refuses NUL (U+0000) in text, and a lone
# surrogate (U+D800..U+DFFF, which JSON's "\ud800" can name) is no character at all: no database
# stores it and UTF-8 cannot encode it. Every service's checks call text_problem (or check_text);
# a lookup of text that is not stored (a name in a URL) asks storable() and finds nothing.

NUL_CHARACTER = "Remove the NUL character (U+0000): Huddle cannot keep it."
LONE_SURROGATE = "Remove the broken character (a lone UTF-16 surrogate, U+D800 to U+DFFF): it is not text."


def text_problem(text: str) -> str | None:
    """Why this text can be neither stored nor sent on, or None."""
    if "\x00" in text:
        return NUL_CHARACTER
    if lone_surrogate(text):
        return LONE_SURROGATE
    return None


def lone_surrogate(text: str) -> bool:
    """Whether UTF-8 cannot carry this text (nor argon2 hash it, nor a socket send it)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def storable(text: str) -> bool:
    return text_problem(text) is None


def check_text(**fields: str | None) -> None:
    """Invalid, naming every field whose text breaks the rule (None and non-text are left to the
    caller's own checks)."""
    errors = {name: problem for name, value in fields.items()
              if isinstance(value, str) and (problem := text_problem(value)) is not None}
    if errors:
        raise Invalid(errors)


def quotable(text: str) -> str:
    """Text to quote back in a message: a lone surrogate becomes U+FFFD (so the answer itself can
    be written out), NUL a visible "\\0"."""
    if storable(text):
        return text
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else "\\0" if ch == "\x00" else ch for ch in text)
