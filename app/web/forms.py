"""Forms as the pages show them (values to show again, an error per field), and the site's error
page for a refused use case. The account rules that fill them live in app/accounts/rules.py."""
from __future__ import annotations

from dataclasses import dataclass, field

from quart import Response, current_app
from werkzeug import exceptions

from app.domain import Conflict, DomainError, Invalid, NotAllowed, NotFound, TooLarge


@dataclass
class Form:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)


HTTP_ERRORS: dict[type[DomainError], type[exceptions.HTTPException]] = {
    Invalid: exceptions.UnprocessableEntity,
    NotAllowed: exceptions.Forbidden,
    NotFound: exceptions.NotFound,
    Conflict: exceptions.Conflict,
    TooLarge: exceptions.RequestEntityTooLarge,
}


async def domain_error_page(error: DomainError) -> Response:
    """A blueprint's error handler: a refused use case becomes the site's error page (403, 404, ...),
    exactly as if the view had raised werkzeug's exception with the message. Forms catch Invalid
    themselves, to show it in place."""
    kind = next(http for domain, http in HTTP_ERRORS.items() if isinstance(error, domain))
    return await current_app.handle_http_exception(kind(error.message))
