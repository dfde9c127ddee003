"""Starting conversations: new rooms, room members, and direct conversations (made by their
first message, never before). Every rule is in app/chat/service.py."""
from __future__ import annotations

from quart import Blueprint, Response, flash, redirect, request, url_for

from app.accounts import auth
from app.chat import service
from app.domain import DomainError, Invalid, NotAllowed, NotFound, RateLimited
from app.models import User
from app.web.forms import Form, domain_error_page
from app.web.htmx import redirect_to, render

bp = Blueprint("rooms", __name__, url_prefix="/chat")
bp.register_error_handler(DomainError, domain_error_page)


@bp.before_request
@auth.login_required
async def members_only() -> None:
    """Chat is for logged-in members."""


ACCESS = {"open": True, "closed": False}


@bp.route("/rooms/new", methods=["GET", "POST"])
async def new_room() -> Response:
    """A room: open to every member, or closed to the people chosen (chosen: no default)."""
    form, status = Form(), 200
    if request.method == "POST":
        data = await request.form
        form = Form(values={k: data.get(k, "") for k in ("name", "topic", "members", "open")})
        try:
            room = await service.create_room(
                auth.current(), data.get("name", ""), data.get("topic", ""), is_open=ACCESS.get(data.get("open")),
                member_names=[n for n in data.get("members", "").replace(",", " ").split() if n],
            )
        except Invalid as refused:
            form.errors.update(refused.errors)
            status = 422
        else:
            return redirect_to(url_for("chat.show", conversation_id=room.id))
    return await render("chat/new_room.html", status=status, form=form)


def _settings_form(room) -> Form:
    return Form(values={"name": room.name, "topic": room.topic or "", "open": "open" if room.is_open else "closed",
                        "archived": "on" if room.is_archived else "",
                        "everyone": "on" if room.everyone_allowed else ""})


async def _settings_page(room, form: Form, status: int = 200) -> Response:
    return await render("chat/room_settings.html", status=status, room=room, form=form,
                        general=service.is_everyones(room),
                        open_hint=None if room.is_open else service.OPENING_LISTS_IT,
                        closed_hint=service.CLOSING_KEEPS_MEMBERS if room.is_open else None)


@bp.route("/<int:conversation_id>/settings", methods=["GET", "POST"])
async def settings(conversation_id: int) -> Response:
    """A room's name, topic, open or closed, archived: its creator's and administrators'."""
    room = await service.manageable(auth.current(), conversation_id)
    if request.method == "GET":
        return await _settings_page(room, _settings_form(room))
    data = await request.form
    form = Form(values={k: data.get(k, "") for k in ("name", "topic", "open", "archived", "everyone")})
    # The @everyone box is read only from a form that showed it (an unticked box sends nothing).
    everyone = data.get("everyone") == "on" if data.get("everyone_shown") else None
    try:
        await service.change_room(auth.current(), room, name=data.get("name", ""), topic=data.get("topic", ""),
                                  is_open=ACCESS.get(data.get("open"), room.is_open),
                                  archived=data.get("archived") == "on", everyone_allowed=everyone)
    except Invalid as refused:
        form.errors.update(refused.errors)
        return await _settings_page(room, form, 422)
    # No flashed "Saved": the room's header says what changed (in the chat shell a flash would sit
    # over the header's links), as it does at once on every page that has the room open.
    return redirect_to(url_for("chat.show", conversation_id=room.id))


@bp.route("/<int:conversation_id>/delete", methods=["GET", "POST"])
async def delete_room(conversation_id: int) -> Response:
    """Ask first (GET), then delete the room for everyone (POST)."""
    room = await service.manageable(auth.current(), conversation_id)
    if service.is_everyones(room):
        raise NotAllowed(service.GENERAL_STAYS)
    if request.method == "GET":
        return await render("chat/room_delete.html", room=room, messages=await service.message_count(room))
    await service.delete_room(auth.current(), room)
    await flash(f"#{room.name} was deleted.")
    return redirect_to(url_for("chat.index"))


@bp.get("/<int:conversation_id>/members")
async def members(conversation_id: int) -> Response:
    me = auth.current()
    conversation, _ = await service.member_of(me, conversation_id)
    return await render("chat/members.html", conversation=conversation, members=await service.members(conversation),
                        may_manage=service.may_manage(me, conversation), form=Form())


@bp.post("/<int:conversation_id>/members")
async def add_member(conversation_id: int) -> Response:
    me = auth.current()
    conversation, _ = await service.member_of(me, conversation_id)
    name = (await request.form).get("username", "")
    try:
        await service.add_member(me, conversation, name)
    except Invalid as refused:
        form = Form(values={"username": name}, errors={"username": refused.errors.get("usernames", "")})
        return await render("chat/members.html", status=422, conversation=conversation, form=form,
                            members=await service.members(conversation), may_manage=True)
    return redirect_to(url_for("rooms.members", conversation_id=conversation.id))


@bp.post("/<int:conversation_id>/members/<int:user_id>/delete")
async def remove_member(conversation_id: int, user_id: int) -> Response:
    me = auth.current()
    conversation, _ = await service.member_of(me, conversation_id)
    person = await User.get_or_none(id=user_id)
    if person is None:
        raise NotFound("There is no such person in this room.")
    await service.remove_member(me, conversation, person)
    return redirect_to(url_for("rooms.members", conversation_id=conversation.id))


@bp.route("/new", methods=["GET", "POST"])
async def new_message() -> Response:
    """Write to one or several people: the conversation is made by the first message."""
    form, status, headers = Form(values={"usernames": request.args.get("to", "")[:400]}), 200, {}
    if request.method == "POST":
        data = await request.form
        chosen = data.getlist("people")
        form = Form(values={"usernames": data.get("usernames", ""), "body": data.get("body", ""), "people": chosen})
        names = [n for n in data.get("usernames", "").replace(",", " ").split() if n] + [n for n in chosen if n]
        try:
            message = await service.send_direct(auth.current(), names, data.get("body", ""),
                                                data.get("client_id") or None)
        except Invalid as refused:
            form.errors.update(refused.errors)
            status = 422
        except RateLimited as refused:  # the posting limit: the text stays, as in the composer
            form.error("body", refused.message)
            status, headers = 429, {"Retry-After": str(refused.retry_after)}
        else:
            return redirect_to(url_for("chat.show", conversation_id=message.conversation_id))
    people = await User.exclude(id=auth.current().id).order_by("username_key").limit(200)
    response = await render("chat/new_message.html", status=status, form=form, people=people)
    response.headers.update(headers)
    return response


@bp.get("/with/<username>")
async def with_person(username: str) -> Response:
    """A profile's "Message" button: the conversation with them, or a new one to start."""
    try:
        found = await service.find_direct(auth.current(), [username])
    except Invalid:
        raise NotFound(f"There is no user called {username[:40]}.") from None
    if found is not None:
        return redirect(url_for("chat.show", conversation_id=found.id), code=303)
    return redirect(url_for("rooms.new_message", to=username), code=303)
