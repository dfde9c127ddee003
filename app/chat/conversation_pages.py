"""The conversation page, built once for the doors that show it (app/chat/routes.py: the page, a
permalink, a refused post without a script coming back with its text). Views load, call
app/chat/service.py and render; every rule lives in the service."""
from __future__ import annotations

from quart import Response, redirect, url_for

from app.accounts import auth
from app.chat import events as chat_events
from app.chat import levels, replies, service
from app.chat.sidebar import sidebar_context, sidebar_html, title_of
from app.chat.thread_pages import thread_view
from app.web.htmx import render


async def conversation_page(conversation_id: int, *, around: int | None = None, before: int | None = None,
                            after: int | None = None, latest: bool = False,
                            status: int = 200, draft: str = "", errors: dict | None = None,
                            reply_to: object = None) -> Response:
    """The conversation page (sidebar, messages, composer): at the first unread, around a message
    (a permalink), before or after a number, or the newest; an open room's preview for a reader who
    has not joined; a thread's own page for a thread (its refused reply, text kept, in place)."""
    me = auth.current()
    conversation, member = await service.visible(me, conversation_id, count_members=True)
    if conversation.is_thread and (errors or draft):  # a refused reply: its page, the text kept
        return await thread_view(conversation.id, status=status, draft=draft, errors=errors, reply_to=reply_to)
    if conversation.is_thread:  # a thread has a page of its own (app/chat/thread_routes.py)
        return redirect(url_for("threads.show", thread_id=conversation.id,
                                **({"reply_to": reply_to} if isinstance(reply_to, str) and reply_to else {})), code=303)
    seq = conversation.last_seq  # read before the messages: replays start from here
    sidebar = await sidebar_context(me, conversation)
    if conversation.is_room:
        others, member_count = [], conversation.member_count
    else:  # only its members see a direct conversation, so the sidebar has its people already
        others = sidebar["people_of"].get(conversation.id, [])
        member_count = len(others) + 1
    messages, more, more_newer, first_unread = [], False, False, None
    if member is not None:
        if around is not None:
            messages, more = await service.around(conversation, around)
            more_newer = bool(messages) and await service.has_newer(conversation, messages[-1].seq)
        elif after is not None:
            messages, more_newer = await service.newer_rows(conversation, after=after)
            more = True
        elif before is None and not latest and sidebar["unread"].get(conversation.id):
            # Opened where the reader left off: the first unread under a "New messages" line.
            messages, more, more_newer = await service.from_unread(conversation, member.last_read_seq)
            first_unread = next((m["seq"] for m in messages if m["seq"] > member.last_read_seq
                                 and m["author_id"] != me.id), None)
        else:
            messages, more = await service.history_rows(conversation, before=before)
    else:  # an open room I am not in: a preview, read-only, and Join (a permalink: around its message)
        messages, more_newer = await service.preview(conversation, around_id=around)
    return await render(
        "chat/conversation.html", status=status, conversation=conversation, member=member, seq=seq,
        messages=messages, fragments=await chat_events.message_fragments(messages, sidebar["names_key"]), more=more,
        title=title_of(conversation, sidebar), member_count=member_count,
        more_newer=more_newer, first_unread=first_unread,
        highlight=around, draft=draft, errors=errors or {}, may_manage=service.may_manage(me, conversation),
        reply=await replies.bar(conversation, reply_to) if member is not None else None,
        may_leave=service.may_leave(conversation), level=levels.of(conversation, member) if member else None,
        sidebar_html=await sidebar_html(sidebar), **sidebar,
    )
