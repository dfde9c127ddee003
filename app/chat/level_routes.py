"""A member's notification level for a conversation, from its header: GET shows the choice (the
header's form as a page of its own, for a plain browser), POST sets it. With htmx the form answers
with itself (the new level shown, a toast says it); without, a redirect back to the conversation.
A bad level is said beside the field (422). The rule is app/chat/levels.py's."""
from __future__ import annotations

from quart import Blueprint, Response, flash, redirect, request, url_for

from app.accounts import auth
from app.chat import levels
from app.domain import DomainError, Invalid
from app.web.forms import domain_error_page
from app.web.htmx import is_htmx, render, toast

bp = Blueprint("levels", __name__, url_prefix="/chat")
bp.register_error_handler(DomainError, domain_error_page)


@bp.before_request
@auth.login_required
async def members_only() -> None:
    """Chat is for logged-in members (401 / login page otherwise)."""


def said(conversation, level: levels.Level) -> str:
    where = f"#{conversation.name}" if conversation.is_room else "this conversation"
    return f"Notifications for {where}: {level.name}."


@bp.get("/<int:conversation_id>/notifications")
async def show(conversation_id: int) -> Response:
    """What I am notified of here, and the choice."""
    conversation, level = await levels.get(auth.current(), conversation_id)
    return await render("chat/level.html", "chat/_level.html", conversation=conversation, level=level, errors={})


@bp.post("/<int:conversation_id>/notifications")
async def choose(conversation_id: int) -> Response:
    """Set what I am notified of here: all, mentions or nothing."""
    chosen = (await request.form).get("level", "")
    try:
        conversation, level = await levels.choose(auth.current(), conversation_id, chosen)
    except Invalid as refused:
        conversation, level = await levels.get(auth.current(), conversation_id)
        return await render("chat/level.html", "chat/_level.html", status=422, conversation=conversation,
                            level=level, errors=refused.errors)
    if is_htmx():
        response = await render("chat/_level.html", conversation=conversation, level=level, errors={})
        return toast(response, said(conversation, level))
    await flash(said(conversation, level))
    return redirect(url_for("chat.show", conversation_id=conversation.id), code=303)
