"""Admin area: manage users inline (add, edit, delete) and read the audit log."""
from __future__ import annotations

from quart import Blueprint, Response, abort, current_app, flash, redirect, request, session, url_for

from app.accounts import auth
from app.accounts.rules import account_values
from app.accounts.service import get_user
from app.admin import audit_log, invitations, push_status, service
from app.domain import DomainError, Invalid
from app.links import service as links
from app.models import AuditEvent, Feedback, Invitation, User
from app.models.paging import page, page_by_name
from app.realtime import events
from app.web.forms import Form, domain_error_page
from app.web.htmx import is_htmx, render, toast
from app.web.urls import id_param

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.register_error_handler(DomainError, domain_error_page)


@bp.before_request
@auth.admin_required
async def admins_only() -> None:
    """Every page here is for administrators; the rest get 401 or 403."""


async def _target(user_id: int) -> User:
    user = await User.get_or_none(id=user_id)
    if user is None:
        abort(404, description="That user does not exist (perhaps already deleted).")
    return user


USERS_PAGE = 50


async def _users_page(status: int = 200, start_at: User | None = None, **context) -> Response:
    """A page of the users table in name order; `editing`/`adding` put one row in form mode (the
    plain-browser path), on the page that starts with the row being edited."""
    users, next_after = await page_by_name(
        User.all(), after=request.args.get("after", "")[:60] or None, size=USERS_PAGE,
        start_at=start_at.username_key if start_at else None,
    )
    return await render(
        "admin/users.html", status=status, users=users, me=auth.current(), next_after=next_after,
        online_ids=await events.online_ids(user.id for user in users), reserved=await service.reserved_names(),
        push=await push_status.status(), link_previews=await links.enabled(),
        link_previews_configured=current_app.config["HUDDLE"].link_previews, **context,
    )


async def _form_row(person: User | None, form: Form, status: int = 200) -> Response:
    """A row in form mode: the row alone for htmx, the whole page around it otherwise."""
    if not is_htmx():
        if person is None:
            return await _users_page(status=status, adding=form)
        return await _users_page(status=status, start_at=person, editing=person.id, form=form)
    return await render("admin/_user_form_row.html", status=status, person=person, form=form)


@bp.get("/users")
async def users() -> Response:
    """All users with their presence, each row editable in place."""
    return await _users_page()


@bp.get("/users/<int:user_id>")
async def show(user_id: int) -> Response:
    """One row (what "Cancel" swaps back); a plain browser gets the page."""
    person = await _target(user_id)
    if not is_htmx():
        return redirect(url_for("admin.users"), code=303)
    return await render(
        "admin/_user_row.html", person=person, me=auth.current(), online_ids=await events.online_ids([person.id])
    )


@bp.get("/users/new")
async def new() -> Response:
    """The empty form row for a new user, at the top of the table (or, to cancel, the empty slot)."""
    if request.args.get("cancel") and is_htmx():
        return await render("admin/_new_row_slot.html")
    return await _form_row(None, Form())


@bp.post("/users")
async def create() -> Response:
    """Add a user; errors come back inside the row and nothing is saved."""
    data = await request.form
    values = _values(data)
    try:
        person = await service.create_user(auth.current(), values)
    except Invalid as refused:
        return await _form_row(None, _form(data, values, refused), status=422)
    if not is_htmx():
        await flash(f"Added {person.username}.")
        return redirect(url_for("admin.users"), code=303)
    # The form row becomes the empty slot again, with the new user's row below it.
    return toast(await render("admin/_created.html", person=person, me=auth.current()), f"Added {person.username}.")


def _values(data) -> dict:
    """The form as the admin service takes it: the checkbox becomes a bool."""
    return {**data.to_dict(), "is_admin": data.get("is_admin") == "on"}


def _form(data, values: dict, refused: Invalid) -> Form:
    """The form row again: what was typed (never a password) and why it was refused."""
    return Form(values={**account_values(data), "is_admin": "on" if values["is_admin"] else ""}, errors=refused.errors)


@bp.get("/users/<int:user_id>/edit")
async def edit(user_id: int) -> Response:
    """The row as a form."""
    person = await _target(user_id)
    form = Form(values={
        "username": person.username, "display_name": person.display_name, "email": person.email,
        "is_admin": "on" if person.is_admin else "",
    })
    return await _form_row(person, form)


@bp.post("/users/<int:user_id>")
async def update(user_id: int) -> Response:
    """Save a row: username, email, admin, and a password only when one is typed."""
    person = await _target(user_id)
    data = await request.form
    values = _values(data)
    actor = auth.current()
    try:
        # The request's own session stays if the admin sets their own password.
        await service.update_user(actor, person, values, keep_session=auth.current_session())
    except Invalid as refused:
        return await _form_row(person, _form(data, values, refused), status=422)
    if not is_htmx():
        await flash(f"Saved {person.username}.")
        return redirect(url_for("admin.users"), code=303)
    row = await render(
        "admin/_user_row.html", person=person, me=actor, online_ids=await events.online_ids([person.id])
    )
    return toast(row, f"Saved {person.username}.")


@bp.post("/reserved-names/<int:reserved_id>/free")
async def free_name(reserved_id: int) -> Response:
    """Free a username kept from an earlier owner (a renamed or deleted account's): audited."""
    name = await service.free_name(auth.current(), reserved_id)
    await flash(f"“{name}” is free: anyone may take it now.")
    return redirect(url_for("admin.users", _anchor="reserved-names"), code=303)


@bp.post("/link-previews")
async def link_previews() -> Response:
    """Turn link previews on or off for the whole site (`previews`: on / off): audited."""
    choice = (await request.form).get("previews", "")
    if choice not in ("on", "off"):
        raise Invalid({"previews": "Choose on or off."})
    await links.set_enabled(auth.current(), choice == "on")
    await flash(f"Link previews are {choice}.")
    return redirect(url_for("admin.users", _anchor="link-previews"), code=303)


@bp.get("/users/<int:user_id>/delete")
async def confirm_delete(user_id: int) -> Response:
    """Ask before deleting (the plain-browser path; htmx asks with hx-confirm)."""
    person = await _target(user_id)
    service.check_delete(auth.current(), person)
    return await render("admin/delete.html", person=person)


@bp.post("/users/<int:user_id>/delete")
async def delete(user_id: int) -> Response:
    """Delete a user: their sessions end and every page of theirs goes to the login page."""
    person = await _target(user_id)
    await service.delete_user(auth.current(), person)
    message = f"Deleted {person.username}. Their open pages have been logged out."
    if is_htmx():
        return toast(Response("", status=200), message)  # the row swaps out
    await flash(message)
    return redirect(url_for("admin.users"), code=303)


@bp.get("/audit")
async def audit() -> Response:
    """Who did what to whom, newest first, 50 to a page."""
    rows, next_before = await page(AuditEvent.all(), before=id_param(request.args.get("before")), size=50)
    entries = [(event, audit_log.sentence(event)) for event in rows]
    return await render("admin/audit.html", entries=entries, next_before=next_before)


@bp.get("/feedback")
async def feedback() -> Response:
    """All feedback, newest first, 20 to a page, optionally from one user."""
    username = request.args.get("user", "").strip()
    author = await get_user(username) if username else None
    query = Feedback.all().select_related("author")
    if author is not None:
        query = query.filter(author_id=author.id)
    items, next_before = await page(query, before=id_param(request.args.get("before")), size=20)
    return await render(
        "admin/feedback.html",
        items=items,
        author=author,
        authors=await User.filter(feedback__id__isnull=False).distinct().order_by("username_key"),
        next_before=next_before,
    )


# --- invitations --------------------------------------------------------------------------------

@bp.get("/invitations")
async def invitation_list() -> Response:
    """Invitation links: a new one, and every one made, with who joined through it and, while it
    can be used, the link to copy again (made again from its key: app/models/invitation.py)."""
    return await _invitations_page()


async def _invitations_page(status: int = 200, form: Form | None = None) -> Response:
    rows = await Invitation.all().prefetch_related("joined").limit(100)
    settings = current_app.config["HUDDLE"]
    new_id = session.pop("new_invitation", None)
    new = next((row for row in rows if row.id == new_id), None) if isinstance(new_id, int) else None
    return await render(
        "admin/invitations.html", status=status, invitations=rows, form=form or Form(values={"days": "7"}),
        links={row.id: invitations.link_of(row) for row in rows},
        new_link=invitations.link_of(new) if new is not None else None, welcome=bool(request.args.get("welcome")),
        mode=settings.registration, base_url=settings.base_url,
    )


@bp.post("/invitations")
async def invitation_create() -> Response:
    data = await request.form
    try:
        invitation, token = await invitations.create(auth.current(), data.get("kind", ""), data.get("days", ""),
                                                     data.get("email", ""))
    except Invalid as refused:
        form = Form(values={k: data.get(k, "") for k in ("kind", "days", "email")}, errors=refused.errors)
        return await _invitations_page(status=422, form=form)
    session["new_invitation"] = invitation.id  # shown first on the page this redirects to (its id, not the link)
    if invitation.note:  # the service has mailed it
        await flash(f"Invitation mailed to {invitation.note}.")
    return redirect(url_for("admin.invitation_list"), code=303)


@bp.post("/invitations/<int:invitation_id>/revoke")
async def invitation_revoke(invitation_id: int) -> Response:
    invitation = await Invitation.get_or_none(id=invitation_id)
    if invitation is None:
        abort(404, description="That invitation does not exist.")
    await invitations.revoke(auth.current(), invitation)
    await flash("The invitation link no longer works.")
    return redirect(url_for("admin.invitation_list"), code=303)
