"""/mentions: everything that mentioned me, newest first, a page at a time ("Older mentions",
keyset), the unread ones marked, each opening its message in context (the permalink, as search
results do); only what I may read now. And /mentions/viewer.css, the signed-in person's own small
stylesheet: a message is rendered once for everyone, its mentions carrying their person's id, and
this rule is how a page marks "mentions you" for its viewer, with or without JavaScript, on a
page load and in every live fragment alike. Every rule lives in app/chat/service.py (mentions_of)."""
from __future__ import annotations

from quart import Blueprint, Response, render_template, request

from app.accounts import auth
from app.chat import service, titles
from app.domain import DomainError
from app.web.forms import domain_error_page
from app.web.htmx import render
from app.web.urls import id_param

bp = Blueprint("mentions", __name__)
bp.register_error_handler(DomainError, domain_error_page)

PAGE_SIZE = 30
BAD_CURSOR = "That link to older mentions is not one of ours: here are the newest."
VIEWER_CSS_SECONDS = 3600  # the rule depends only on who is signed in (whose id is in the URL)


@bp.before_request
@auth.login_required
async def members_only() -> None:
    """Mentions are a member's own (401 / login page otherwise)."""


@bp.get("/mentions")
async def page() -> Response:
    """Everything that mentioned me: `before` is the cursor of "Older mentions"."""
    me = auth.current()
    raw = request.args.get("before")
    before = id_param(raw) if raw else None
    error = BAD_CURSOR if raw and before is None else ""
    items, older = await service.mentions_of(me, before=before, size=PAGE_SIZE)
    where, labels = await titles.places(me.id, [item.message.conversation for item in items],
                                        also={item.message.author_id for item in items})
    return await render("chat/mentions.html", "chat/_mentions.html", status=422 if error else 200, items=items,
                        older=older, before=before, where=where, labels=labels, error=error)


@bp.get("/mentions/viewer.css")
async def viewer_css() -> Response:
    """The signed-in person's rule: their mentions stand out and say "mentions you" (to screen
    readers too); their own @everyone does not. The URL carries their id (`u`), so a browser
    shared by two people keeps one for each."""
    css = await render_template("chat/viewer.css", me=auth.current().id)
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = f"private, max-age={VIEWER_CSS_SECONDS}"
    response.headers["Vary"] = "Cookie"
    return response
