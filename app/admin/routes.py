"""Admin area: manage users inline (add, edit, delete) and read the audit log."""
from __future__ import annotations

from quart import Blueprint, Response, abort, flash, redirect, request
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction
from werkzeug.exceptions import Forbidden

from app.accounts import auth, hashing, usernames
from app.web.forms import Form, check_new_account
from app.web.htmx import is_htmx, render
from app.live.events import reload_scope
from app.models import AuditEvent, Feedback, User
from app.accounts.service import delete_user, end_sessions

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@auth.admin_required
async def admins_only() -> None:
    """Every page here is for administrators; the rest get 401 or 403."""


async def _target(user_id: int) -> User:
    user = await User.get_or_none(id=user_id)
    if user is None:
        abort(404, description="That user does not exist (perhaps already deleted).")
    return user


async def _users_page(status: int = 200, **context) -> Response:
    """The whole users page; `editing`/`adding` put one row in form mode (plain-browser path)."""
    return await render(
        "admin/users.html", status=status, users=await User.all(), me=auth.current(), **context
    )


async def _form_row(person: User | None, form: Form, status: int = 200) -> Response:
    """A row in form mode: the row alone for htmx, the whole page around it otherwise."""
    if not is_htmx():
        if person is None:
            return await _users_page(status=status, adding=form)
        return await _users_page(status=status, editing=person.id, form=form)
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
        return redirect("/admin/users", code=303)
    return await render("admin/_user_row.html", person=person, me=auth.current())


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
    form = await check_new_account(data)
    if form.ok:
        try:
            person = await User.create_account(
                form.values["username"], form.values["email"], data["password"], is_admin=data.get("is_admin") == "on"
            )
        except IntegrityError:
            form.error("username", "That username or email address is taken.")
        else:
            await AuditEvent.record(auth.current(), "user.created", person)
            if person.is_admin:
                await AuditEvent.record(auth.current(), "admin.granted", person)
            if not is_htmx():
                await flash(f"Added {person.username}.")
                return redirect("/admin/users", code=303)
            # The form row becomes the empty slot again, with the new user's row below it.
            return await render("admin/_created.html", person=person, me=auth.current())
    form.values["is_admin"] = "on" if data.get("is_admin") == "on" else ""
    return await _form_row(None, form, status=422)


@bp.get("/users/<int:user_id>/edit")
async def edit(user_id: int) -> Response:
    """The row as a form."""
    person = await _target(user_id)
    form = Form(values={"username": person.username, "email": person.email, "is_admin": "on" if person.is_admin else ""})
    return await _form_row(person, form)


@bp.post("/users/<int:user_id>")
async def update(user_id: int) -> Response:
    """Save a row: username, email, admin, and a password only when one is typed."""
    person = await _target(user_id)
    data = await request.form
    form = await check_new_account(data, exclude=person, password_required=False)
    make_admin = data.get("is_admin") == "on"
    form.values["is_admin"] = "on" if make_admin else ""
    if person.is_admin and not make_admin and await User.filter(is_admin=True).count() == 1:
        form.error("is_admin", f"{person.username} is the last administrator and must stay one.")
    if not form.ok:
        return await _form_row(person, form, status=422)

    actor = auth.current()
    changes = [
        f"{name}: {getattr(person, name)} → {form.values[name]}"
        for name in ("username", "email")
        if getattr(person, name) != form.values[name]
    ]
    admin_changed = person.is_admin != make_admin
    password = data.get("password", "")
    # Hash before the transaction: ~30 ms of argon2 should not hold SQLite's write lock.
    new_hash = await hashing.hash_password(password) if password else None
    try:
        async with in_transaction():
            person.username = form.values["username"]
            person.username_key = usernames.key(person.username)
            person.email = form.values["email"]
            person.is_admin = make_admin
            if new_hash:
                person.password_hash = new_hash
            await person.save()
            if changes:
                await AuditEvent.record(actor, "user.edited", person, "; ".join(changes))
            if admin_changed:
                await AuditEvent.record(actor, "admin.granted" if make_admin else "admin.removed", person)
            if password:
                await AuditEvent.record(actor, "password.set_by_admin", person)
    except IntegrityError:
        form.error("username", "That username or email address is taken.")
        return await _form_row(await _target(user_id), form, status=422)

    if password:
        # A new password ends the user's other sessions at once (the admin's own stays).
        await end_sessions(person, "password", keep=auth.current_session() if person.id == actor.id else None)
    if admin_changed and not make_admin:
        await reload_scope(f"user:{person.id}", "admin")  # their open admin pages lose access now
    if not is_htmx():
        await flash(f"Saved {person.username}.")
        return redirect("/admin/users", code=303)
    return await render("admin/_user_row.html", person=person, me=actor)


@bp.get("/users/<int:user_id>/delete")
async def confirm_delete(user_id: int) -> Response:
    """Ask before deleting (the plain-browser path; htmx asks with hx-confirm)."""
    person = await _target(user_id)
    _refuse_self(person)
    return await render("admin/delete.html", person=person)


@bp.post("/users/<int:user_id>/delete")
async def delete(user_id: int) -> Response:
    """Delete a user: their sessions end and every page of theirs goes to the login page."""
    person = await _target(user_id)
    _refuse_self(person)
    if person.is_admin and await User.filter(is_admin=True).count() == 1:
        raise Forbidden("The last administrator cannot be deleted.")
    await delete_user(auth.current(), person)
    if is_htmx():
        notice = await render("admin/_deleted.html", person=person)
        return notice  # the row swaps out; a notice swaps into #flash out of band
    await flash(f"Deleted {person.username}.")
    return redirect("/admin/users", code=303)


def _refuse_self(person: User) -> None:
    if person.id == auth.current().id:
        raise Forbidden("You cannot delete your own account from the admin area.")


@bp.get("/audit")
async def audit() -> Response:
    """Who did what to whom, newest first, 50 to a page."""
    before = request.args.get("before", type=int)
    events = await AuditEvent.page(before=before, size=51)
    more = len(events) > 50
    events = events[:50]
    return await render("admin/audit.html", events=events, next_before=events[-1].id if more else None)


@bp.get("/feedback")
async def feedback() -> Response:
    """All feedback, newest first, 20 to a page, optionally from one user."""
    username = request.args.get("user", "").strip()
    author = await User.by_username(username) if username else None
    if username and author is None:
        abort(404, description=f"There is no user called {username}.")
    before = request.args.get("before", type=int)
    items = await Feedback.page(author=author, before=before, size=21)
    more = len(items) > 20
    items = items[:20]
    return await render(
        "admin/feedback.html",
        items=items,
        author=author,
        authors=await User.filter(feedback__id__isnull=False).distinct().order_by("username_key"),
        next_before=items[-1].id if more else None,
    )
