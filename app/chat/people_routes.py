"""Whom to mention: GET /chat/<id>/people?q=al. For a composer's `@` (static/js/mention-complete.js,
htmx-style): the options fragment; for a plain browser, a page listing them with a field to find
more. The rule (who may be offered, in what order) is app/chat/people.py's."""
from __future__ import annotations

from quart import Blueprint, Response, request

from app.accounts import auth
from app.chat import people
from app.domain import DomainError
from app.web.forms import domain_error_page
from app.web.htmx import render

bp = Blueprint("people", __name__, url_prefix="/chat")
bp.register_error_handler(DomainError, domain_error_page)


@bp.before_request
@auth.login_required
async def members_only() -> None:
    """Chat is for logged-in members (401 / login page otherwise)."""


@bp.get("/<int:conversation_id>/people")
async def suggest(conversation_id: int) -> Response:
    """People (and @everyone) to mention here whose name starts with `q`: at most 8."""
    typed = request.args.get("q", "")
    conversation, found = await people.to_mention(auth.current(), conversation_id, typed)
    return await render("chat/people.html", "chat/_mention_options.html", conversation=conversation,
                        suggestions=found, q=typed[: people.TYPED_MAX])
