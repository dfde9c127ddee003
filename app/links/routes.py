"""Link previews from the page: its sender removes a message's preview (the × on the card: POST;
with htmx the answer is the message without it, without a script a redirect back to it), and a
preview's image, served by Huddle to whoever may read the message. The rules are
app/links/service.py's."""
from __future__ import annotations

from quart import Blueprint, Response, redirect, url_for

from app.accounts import auth
from app.chat import events as chat_events
from app.domain import DomainError
from app.links import service
from app.links.doors import image_response
from app.web.forms import domain_error_page
from app.web.htmx import is_htmx

bp = Blueprint("links", __name__, url_prefix="/chat")
bp.register_error_handler(DomainError, domain_error_page)


@bp.before_request
@auth.login_required
async def members_only() -> None:
    """Chat is for logged-in members (401 / login page otherwise)."""


@bp.post("/messages/<int:message_id>/preview/remove")
async def remove(message_id: int) -> Response:
    """Remove my message's link preview (its sender only: 403 for other members, 404 for the rest)."""
    message = await service.remove(auth.current(), message_id)
    if not is_htmx():
        return redirect(url_for("chat.permalink", conversation_id=message.conversation_id, message_id=message.id),
                        code=303)
    return Response(await chat_events.message_html(message), status=200)


@bp.get("/messages/<int:message_id>/preview/image")
async def image(message_id: int) -> Response:
    """A preview's image: Huddle's copy (its thumbnail once made), never the third party's."""
    return await image_response(auth.current(), message_id)
