"""Threads from the page: "Reply in thread" and a message's summary line open its thread
(GET /chat/messages/<id>/thread: the thread is made on first opening, app/chat/threads.py), shown
as the side panel's content for htmx (static/js/thread.js puts it beside the conversation) or as
a page of its own (a phone, no script, a reload); Follow/Unfollow; and the "Threads" view (the
threads I follow, unread ones first). Replies are ordinary messages of the thread's conversation:
posting, reading and older pages are chat.routes' (chat.post, chat.read, chat.older) with the
thread's id. The rules are app/chat/threads.py's and app/chat/access.py's."""
from __future__ import annotations

from quart import Blueprint, Response, redirect, request, url_for

from app.accounts import auth
from app.chat import threads
from app.chat.sidebar import sidebar_context, title_of
from app.chat.thread_pages import thread_view
from app.domain import DomainError
from app.web.forms import domain_error_page
from app.web.htmx import is_htmx, render, toast

bp = Blueprint("threads", __name__, url_prefix="/chat")
bp.register_error_handler(DomainError, domain_error_page)


@bp.before_request
@auth.login_required
async def members_only() -> None:
    """Chat is for logged-in members (401 / login page otherwise)."""


@bp.get("/messages/<int:message_id>/thread")
async def open_thread(message_id: int) -> Response:
    """The thread of a message I may read, made the first time someone opens it."""
    thread = await threads.open_thread(auth.current(), message_id)
    return await thread_view(thread.id)


@bp.get("/threads/<int:thread_id>")
async def show(thread_id: int) -> Response:
    """A thread by its own id (where a plain form's post in it comes back to)."""
    return await thread_view(thread_id)


@bp.post("/threads/<int:thread_id>/follow")
async def follow(thread_id: int) -> Response:
    """Follow (`follow=1`) or stop following (`follow=0`) a thread: hear every reply, count it unread."""
    me = auth.current()
    on = (await request.form).get("follow", "1") not in {"0", "off", "false", ""}
    follow_row = await threads.follow(me, thread_id, on)
    if not is_htmx():
        return redirect(url_for("threads.show", thread_id=thread_id), code=303)
    response = await render("chat/_thread_follow.html", thread_id=thread_id, follow=follow_row)
    return toast(response, "You follow this thread." if follow_row else "You no longer follow this thread.")


@bp.get("/threads")
async def followed() -> Response:
    """The threads I follow: unread ones first, then by their latest reply."""
    me = auth.current()
    items = await threads.followed(me)
    sidebar = await sidebar_context(me)
    where = {item.thread.id: title_of(item.parent, sidebar) for item in items}
    return await render("chat/threads.html", items=items, where=where, threads_page=True, **sidebar)
