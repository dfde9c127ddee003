"""A thread's page and its side panel's fragment, built once for the doors that show it: the
thread routes (app/chat/thread_routes.py) and chat's post when a reply without a script is
refused (its text and its reply bar come back, on the thread's own page)."""
from __future__ import annotations

from quart import Response, request

from app.accounts import auth
from app.chat import events as chat_events
from app.chat import replies, service, threads
from app.chat.sidebar import sidebar_context, title_of
from app.web.htmx import is_htmx, render


async def thread_view(thread_id: int, *, status: int = 200, draft: str = "", errors: dict | None = None,
                      reply_to: object = None) -> Response:
    """The thread: its parent message on top, the replies (the newest page, older ones on
    scrolling up), the composer for the parent's members; the panel's fragment for htmx, else
    the whole page with the sidebar."""
    me = auth.current()
    thread, parent, room, follow = await threads.thread_of(me, thread_id)
    seq = thread.last_seq  # read before the replies: the live cursor replays from here
    _, room_member = await service.visible(me, room.id)
    rows, more = await service.history_rows(thread, before=None)
    parent_html = (await chat_events.message_fragments([parent]))[0]
    context = dict(thread=thread, parent=parent, room=room, follow=follow, seq=seq, messages=rows, more=more,
                   fragments=await chat_events.message_fragments(rows), parent_html=parent_html,
                   may_post=room_member is not None and not room.is_archived, room_member=room_member,
                   draft=draft, errors=errors or {},
                   # Reply (a message's menu) without a script: `?reply_to=` puts its bar on the composer.
                   reply=await replies.bar(thread, reply_to if reply_to is not None else request.args.get("reply_to"))
                   if room_member is not None else None)
    if is_htmx():
        context["room_title"] = f"#{room.name}" if room.is_room else "this conversation"
        response = await render("chat/_thread_panel.html", status=status, **context)
        response.headers["Vary"] = "HX-Request"
        return response
    sidebar = await sidebar_context(me, room)
    title = title_of(room, sidebar)
    return await render("chat/thread.html", status=status, title=title, room_title=title, **context, **sidebar)
