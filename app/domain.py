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


class RateLimited(DomainError):
    """Too many attempts for now: try again after `retry_after` seconds (HTTP 429 + Retry-After)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
