"""Chat pages: the conversation page (sidebar + messages + composer), history, posting, editing,
deleting, reading, rooms and direct conversations. Views load, call app/chat/service.py, map its
errors and render; every rule lives in the service."""
from __future__ import annotations

from quart import Blueprint, Response, flash, redirect, request, url_for

from app.accounts import auth
from app.chat import events as chat_events
from app.chat import service, visits
from app.chat.conversation_pages import conversation_page
from app.chat.sidebar import sidebar_context
from app.domain import DomainError, Invalid, RateLimited, TooLarge
from app.files import service as files
from app.files.doors import read_form
from app.models import Message
from app.web.forms import domain_error_page
from app.web.htmx import is_htmx, redirect_to, render
from app.web.streaming import streams_body
from app.web.urls import id_param

bp = Blueprint("chat", __name__, url_prefix="/chat")
bp.register_error_handler(DomainError, domain_error_page)


@bp.before_request
@auth.login_required
async def members_only() -> None:
    """Chat is for logged-in members (401 / login page otherwise)."""


@bp.get("")
async def index() -> Response:
    """The last conversation visited, else #general."""
    target = await visits.landing(auth.current())
    return redirect(url_for("chat.show", conversation_id=target), code=303)


@bp.get("/sidebar")
async def sidebar() -> Response:
    return await render("chat/sidebar_page.html", "chat/_sidebar.html", **await sidebar_context(auth.current()))


@bp.get("/<int:conversation_id>")
async def show(conversation_id: int) -> Response:
    """A conversation, opened at the first unread message under a "New messages" line (newer ones
    load as the reader scrolls down); with nothing unread, or `?latest`, the newest 50 at the bottom."""
    return await conversation_page(conversation_id, latest="latest" in request.args,
                                    reply_to=request.args.get("reply_to"))  # Reply, without a script


@bp.get("/<int:conversation_id>/messages/<int:message_id>")
async def permalink(conversation_id: int, message_id: int) -> Response:
    """The conversation around one message, highlighted."""
    return await conversation_page(conversation_id, around=message_id)


@bp.get("/<int:conversation_id>/messages")
async def older(conversation_id: int) -> Response:
    """An older page of messages (keyset by number), for scrolling up; with `after`, a newer page,
    for scrolling down from a permalink or the first unread; with `latest` (no `before`), the
    newest page, which replaces the past in place when one sends from a permalink (static/js/latest.js)."""
    conversation, _ = await service.member_of(auth.current(), conversation_id)
    if "after" in request.args:
        after = id_param(request.args.get("after")) or 0
        if not is_htmx():
            return await conversation_page(conversation_id, after=after)
        messages, more_newer = await service.newer_rows(conversation, after=after)
        return await render("chat/_newer.html", conversation=conversation, messages=messages, more_newer=more_newer,
                            fragments=await chat_events.message_fragments(messages))
    before = id_param(request.args.get("before"))
    if not is_htmx():  # a plain browser following "Older messages": the page, an older stretch of it
        return await conversation_page(conversation_id, before=before, latest="latest" in request.args)
    messages, more = await service.history_rows(conversation, before=before)
    return await render("chat/_older.html", conversation=conversation, messages=messages, more=more,
                        fragments=await chat_events.message_fragments(messages))


@bp.post("/<int:conversation_id>/messages")
@streams_body
async def post(conversation_id: int) -> Response:
    """Post a message, with the ids of files uploaded already (`attachments`), or, from a form
    without script, the files themselves (multipart, streamed: each stored as an upload first).
    For htmx the stored message (static/js/composer.js puts it in place of its "Sending…"
    stand-in), or the composer with its error and the text kept; else a redirect."""
    me = auth.current()
    conversation, _ = await service.member_of(me, conversation_id)
    body, reply_to = "", None
    try:
        if request.mimetype == "multipart/form-data":
            with await read_form() as data:
                body, reply_to = data.get("body", ""), data.get("reply_to")
                ids = files.check_ids(data.getlist("attachments"))
                for each in data.files:  # the no-script composer's files, in the order chosen
                    ids.append((await files.upload(me, each)).id)
        else:
            data = await request.form
            body, ids, reply_to = data.get("body", ""), data.getlist("attachments"), data.get("reply_to")
        message = await service.post(me, conversation, body, data.get("client_id") or None,
                                     confirm_everyone=confirmed(data), attachments=ids, reply_to=reply_to)
    except RateLimited as refused:  # the text stays in the composer
        response = await render("chat/_composer.html", status=429, conversation=conversation, draft=body,
                                errors={"body": refused.message})
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    except (Invalid, TooLarge) as refused:
        body = body or (getattr(refused, "fields", {}).get("body") or [""])[0]  # typed before a file too large
        status, errors = 413 if isinstance(refused, TooLarge) else 422, shown(refused.errors)
        if not is_htmx():
            return await conversation_page(conversation_id, status=status, draft=body, errors=errors,
                                            reply_to=reply_to)
        return await render("chat/_composer.html", status=status, conversation=conversation, draft=body, errors=errors)
    if not is_htmx():
        return redirect(url_for("chat.show", conversation_id=conversation.id), code=303)
    return await render("chat/_posted.html", conversation=conversation, message=message)


def shown(errors: dict[str, str]) -> dict[str, str]:
    """The composer shows one error, under the text: a file's (too large, not yours) goes there too."""
    if "body" in errors or "confirm_everyone" in errors:
        return errors
    return {"body": " ".join(errors.values())}


def confirmed(form) -> bool:
    """The composer's "Notify all members" box (@everyone in a big room) was ticked."""
    return form.get("confirm_everyone") in {"1", "on", "true"}


async def _my_message(message_id: int) -> Message:
    message = await service.get_message(auth.current(), message_id)
    await chat_events.extras([message])  # its fragment shows its files, reactions, the message it answers
    return message


@bp.get("/messages/<int:message_id>")
async def message(message_id: int) -> Response:
    """One message (what Escape brings back); a plain browser goes to its permalink."""
    item = await _my_message(message_id)
    if not is_htmx():
        return redirect(url_for("chat.permalink", conversation_id=item.conversation_id, message_id=item.id), code=303)
    return await render("chat/_message.html", message=item)


@bp.get("/messages/<int:message_id>/edit")
async def edit_form(message_id: int) -> Response:
    item = await _my_message(message_id)
    service.check_may_edit(auth.current(), item)
    return await render("chat/edit.html", "chat/_edit_form.html", message=item, draft=item.body, errors={})


@bp.post("/messages/<int:message_id>")
async def edit(message_id: int) -> Response:
    item = await _my_message(message_id)
    form = await request.form
    body = form.get("body", "")
    try:
        item = await service.edit(auth.current(), item, body, confirm_everyone=confirmed(form))
    except Invalid as refused:
        return await render("chat/edit.html", "chat/_edit_form.html", status=422, message=item, draft=body,
                            errors=refused.errors)
    if not is_htmx():
        return redirect(url_for("chat.permalink", conversation_id=item.conversation_id, message_id=item.id), code=303)
    return await render("chat/_message.html", message=item)


@bp.get("/messages/<int:message_id>/delete")
async def confirm_delete(message_id: int) -> Response:
    """Ask first (the plain-browser path; htmx asks with hx-confirm)."""
    item = await _my_message(message_id)
    return await render("chat/delete.html", message=item)


@bp.post("/messages/<int:message_id>/delete")
async def delete(message_id: int) -> Response:
    item = await _my_message(message_id)
    await service.delete(auth.current(), item)
    if is_htmx():
        return Response("", status=200)
    await flash("Message deleted.")
    return redirect(url_for("chat.show", conversation_id=item.conversation_id), code=303)


@bp.post("/messages/<int:message_id>/unread")
async def unread_from(message_id: int) -> Response:
    """"Mark unread from here": the read position moves back to just before this message."""
    item = await service.get_message(auth.current(), message_id)
    await service.mark_unread_from(auth.current(), item)
    if is_htmx():
        return Response("", status=204)
    return redirect(url_for("chat.show", conversation_id=item.conversation_id), code=303)


@bp.post("/<int:conversation_id>/read")
async def read(conversation_id: int) -> Response:
    """Read up to `seq` (what the page has shown), or everything when it names none. The page's
    script posts it in the background (204); the no-script button navigates back (303)."""
    conversation, _ = await service.member_of(auth.current(), conversation_id)
    raw = (await request.form).get("seq", "").strip()
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 19):
        raise Invalid({"seq": "That is not an event number."})
    await visits.read(auth.current(), conversation, int(raw) if raw else None)
    if request.headers.get("Sec-Fetch-Mode") == "navigate":
        return redirect(url_for("chat.show", conversation_id=conversation.id), code=303)
    return Response("", status=204)


@bp.post("/<int:conversation_id>/join")
async def join(conversation_id: int) -> Response:
    conversation, _ = await service.visible(auth.current(), conversation_id)
    await service.join(auth.current(), conversation)
    return redirect_to(url_for("chat.show", conversation_id=conversation.id))


@bp.post("/<int:conversation_id>/leave")
async def leave(conversation_id: int) -> Response:
    conversation, _ = await service.member_of(auth.current(), conversation_id)
    await service.leave(auth.current(), conversation)
    await flash(f"You left #{conversation.name}.")
    return redirect_to(url_for("chat.index"))
