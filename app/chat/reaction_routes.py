"""Reactions from the page: a message's chips toggle (POST, the emoji in the form), and "Add
reaction" opens the palette (GET: the actor's recently used first, then the table, with a name
filter). With htmx the toggle answers with the message (its reactions under it) and the palette
is a fragment fetched when opened (per viewer, never in the message's shared render); without,
the palette is a page and the toggle redirects back to the message. A refusal (an unknown emoji
or name, an archived room, too fast) is said in the palette (422/429). The rules are
app/chat/reactions.py's."""
from __future__ import annotations

from quart import Blueprint, Response, redirect, request, url_for

from app.accounts import auth
from app.chat import emoji as emoji_table
from app.chat import events as chat_events
from app.chat import reactions, service
from app.domain import DomainError, Invalid, RateLimited
from app.web.forms import domain_error_page
from app.web.htmx import dom_id, is_htmx, render

bp = Blueprint("reactions", __name__, url_prefix="/chat")
bp.register_error_handler(DomainError, domain_error_page)


@bp.before_request
@auth.login_required
async def members_only() -> None:
    """Chat is for logged-in members (401 / login page otherwise)."""


async def _palette(message, *, status: int = 200, error: str = "", typed: str = "") -> Response:
    recent = await reactions.recent(auth.current())
    rest = [e for e in emoji_table.EMOJI if e not in recent]
    response = await render("chat/reactions.html", "chat/_reaction_palette.html", status=status, message=message,
                            recent=recent, rest=rest, names=emoji_table.NAMES, labels=emoji_table.LABELS,
                            error=error, typed=typed)
    if is_htmx() and status != 200:  # said in the palette, whichever button asked
        response.headers["HX-Retarget"] = f"#{dom_id(message, 'palette')}"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


@bp.get("/messages/<int:message_id>/reactions")
async def palette(message_id: int) -> Response:
    """The emoji to react with: mine lately first, then all, filtered by name as I type."""
    return await _palette(await service.get_message(auth.current(), message_id))


@bp.post("/messages/<int:message_id>/reactions")
async def toggle(message_id: int) -> Response:
    """React with `emoji` (or the one named `name`), or take it back if it is mine already."""
    me = auth.current()
    message = await service.get_message(me, message_id)
    form = await request.form
    typed = form.get("name", "")
    chosen = form.get("emoji") or emoji_table.by_name(typed) or typed
    try:
        message, _ = await reactions.toggle(me, message.id, chosen)
    except Invalid as refused:
        error = refused.errors.get("emoji") or refused.message
        return await _palette(message, status=422, error=error, typed=typed)
    except RateLimited as refused:
        response = await _palette(message, status=429, error=refused.message, typed=typed)
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    if not is_htmx():
        return redirect(url_for("chat.permalink", conversation_id=message.conversation_id, message_id=message.id),
                        code=303)
    return Response(await chat_events.message_html(message), status=200)
