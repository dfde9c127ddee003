"""The search page, /search: messages the reader may read that match what they typed, newest
first or most relevant, a page at a time ("Older results", keyset), optionally inside one
conversation (`in=<id>`). The same URL answers the header field's as-you-type panel (htmx: the
results fragment) and a plain browser (the whole page). Every rule and all matching live in
app/search/service.py; this door reads the query string and shows what it answers."""
from __future__ import annotations

from quart import Blueprint, Response, request

from app.accounts import auth
from app.chat import service as chat
from app.chat import titles
from app.domain import DomainError, Invalid
from app.models import Conversation, User, names
from app.search import service
from app.web.forms import domain_error_page
from app.web.htmx import is_htmx, render
from app.web.urls import id_param

bp = Blueprint("search", __name__)
bp.register_error_handler(DomainError, domain_error_page)

MAX_QUERY = 2000  # what the field takes; a longer paste is searched by its first 2,000 characters
PANEL_SIZE = 8  # as-you-type results under the header's field; the page shows PAGE_SIZE
PAGE_SIZE = 20


@bp.before_request
@auth.login_required
async def members_only() -> None:
    """Search is for logged-in members (401 / login page otherwise)."""


async def where_and_who(me: User, hits: list[service.Hit]) -> tuple[dict[int, str], dict]:
    """What each hit's conversation is called for this reader (a room by its name, a direct
    conversation by its other members' names as they are now) and its author's label now."""
    return await titles.places(me.id, [hit.message.conversation for hit in hits],
                               also={hit.message.author_id for hit in hits})


def title_of(me: User, conversation: Conversation, labels: dict) -> str:
    if conversation.is_room:
        return f"#{conversation.name}"
    return titles.direct_titles(me.id, [conversation], labels).get(conversation.id, "Just you")


@bp.get("/search")
async def page() -> Response:
    """Search messages: `q` (the syntax is on the page), `order` (newest or relevant), `in` (a
    conversation's id), `before` (the cursor of "Older results")."""
    me = auth.current()
    q = request.args.get("q", "")[:MAX_QUERY]
    order = "relevant" if request.args.get("order") == "relevant" else "newest"
    before = request.args.get("before") or None
    panel = is_htmx() and request.args.get("panel") == "1"
    scope_id = id_param(request.args.get("in") or request.args.get("conversation_id"))
    scope, scope_title = None, ""
    if scope_id is not None:
        scope, _ = await chat.visible(me, scope_id)  # 404 for a conversation this reader may not see
        scope_title = title_of(me, scope, await names.labels(titles.member_ids([scope])))
    results, error = None, ""
    if q.strip():
        try:
            results = await service.search(me, q, conversation_id=scope_id, order=order, before=before,
                                           limit=PANEL_SIZE if panel else PAGE_SIZE)
        except Invalid as refused:  # a cursor that is not one of ours: say so beside the field
            error = refused.message
    hits = results.hits if results else []
    where, labels = await where_and_who(me, hits)

    # What every link on the page keeps: the words, the order and the conversation (url_for leaves
    # a None out of the address).
    context = dict(q=q, order=order, order_arg="relevant" if order == "relevant" else None, before=before,
                   scope=scope, scope_title=scope_title, scope_args={"in": scope_id} if scope_id else {},
                   results=results, hits=hits, where=where, labels=labels, error=error, panel=panel)
    # htmx asks for the header's panel (`panel=1`) or for the next page, swapped in place of the
    # "Older results" link that asked; a plain browser gets the whole page either way.
    fragment = "search/_panel.html" if panel else "search/_hits.html"
    return await render("search/page.html", fragment, status=422 if error else 200, **context)
