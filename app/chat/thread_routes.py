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
from app.chat import events as chat_events
from app.chat import service, threads
from app.chat.sidebar import sidebar_context, title_of
from app.domain import DomainError
from app.web.forms import domain_error_page
from app.web.htmx import is_htmx, render, toast

bp = Blueprint("threads", __name__, url_prefix="/chat")
bp.register_error_handler(DomainError, domain_error_page)


@bp.before_request
@auth.login_required
async def members_only() -> None:
    """Chat is for logged-in members (401 / login page otherwise)."""


async def _thread_view(thread_id: int, *, status: int = 200) -> Response:
    """The thread: its parent message on top, the replies (the newest page, older ones on
    scrolling up), the composer for the parent's members; the panel's fragment for htmx, else
    the whole page with the sidebar."""
    me = auth.current()
    thread, parent, room, follow = await threads.thread_of(me, thread_id)
    seq = thread.last_seq  # read before the replies: the live cursor replays from here
    _, room_member = await service.visible(me, room.id)
    replies, more = await service.history_rows(thread, before=None)
    parent_html = (await chat_events.message_fragments([parent]))[0]
    context = dict(thread=thread, parent=parent, room=room, follow=follow, seq=seq, messages=replies, more=more,
                   fragments=await chat_events.message_fragments(replies), parent_html=parent_html,
                   may_post=room_member is not None and not room.is_archived, room_member=room_member,
                   draft="", errors={})
    if is_htmx():
        context["room_title"] = f"#{room.name}" if room.is_room else "this conversation"
        response = await render("chat/_thread_panel.html", status=status, **context)
        response.headers["Vary"] = "HX-Request"
        return response
    sidebar = await sidebar_context(me, room)
    title = title_of(room, sidebar)
    return await render("chat/thread.html", status=status, title=title, room_title=title, **context, **sidebar)


@bp.get("/messages/<int:message_id>/thread")
async def open_thread(message_id: int) -> Response:
    """The thread of a message I may read, made the first time someone opens it."""
    thread = await threads.open_thread(auth.current(), message_id)
    return await _thread_view(thread.id)


@bp.get("/threads/<int:thread_id>")
async def show(thread_id: int) -> Response:
    """A thread by its own id (where a plain form's post in it comes back to)."""
    return await _thread_view(thread_id)


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
