"""Accounts: register, log in and out, profiles, and the sessions a user can end."""
from __future__ import annotations

from quart import Blueprint, Response, abort, current_app, flash, redirect, request

from app.accounts import auth, hashing, service, usernames
from app.domain import DomainError, Invalid
from app.web.errors import safe_next
from app.web.forms import Form, account_values, domain_error_page
from app.models.paging import page
from app.web.urls import id_param
from app.web.htmx import is_htmx, redirect_to, render
from app.live import events
from app.live.events import LOGOUT_REASONS
from app.models import Feedback, User, UserSession

bp = Blueprint("accounts", __name__)
bp.register_error_handler(DomainError, domain_error_page)


@bp.route("/register", methods=["GET", "POST"])
async def register() -> Response:
    """Create an account; the very first one is the administrator."""
    if auth.current():
        return redirect("/", code=303)
    form, headers = Form(), {}
    limiter = current_app.extensions["register_limiter_ip"]
    if request.method == "POST" and (wait := limiter.retry_after(auth.client_block())):
        form.error("form", f"Too many new accounts from your network. Try again in {wait // 60 + 1} minutes.")
        headers["Retry-After"] = str(wait)
    elif request.method == "POST":
        data = await request.form
        try:
            user = await service.register(
                data.get("username", ""), data.get("email", ""),
                data.get("password", ""), data.get("confirm_password", ""),
            )
        except Invalid as refused:
            form = Form(values=account_values(data), errors=refused.errors)
        else:
            limiter.fail(auth.client_block())  # counts accounts made, not mistakes
            await auth.start_session(user)
            await flash(f"Welcome to Huddle, {user.username}!")
            return redirect_to("/")
    response = await render(
        "accounts/register.html", "accounts/_register_form.html",
        status=429 if headers else 422 if form.errors else 200, form=form,
    )
    response.headers.update(headers)
    return response


@bp.route("/login", methods=["GET", "POST"])
async def login() -> Response:
    """Log in with username and password; throttled, and silent about which accounts exist."""
    next_url = safe_next(request.args.get("next"))
    if auth.current():
        return redirect(next_url or "/chat", code=303)
    form = Form()
    status = 200
    headers = {}
    if request.method == "POST":
        data = await request.form
        next_url = safe_next(data.get("next")) or next_url
        form, status, headers, user = await _attempt_login(data)
        if user is not None:
            await auth.start_session(user)
            return redirect_to(next_url or "/chat")  # logging in lands in chat
    response = await render(
        "accounts/login.html", "accounts/_login_form.html", status=status, form=form, next=next_url,
        reason=LOGOUT_REASONS.get(request.args.get("reason", "")),
    )
    response.headers.update(headers)
    return response


async def _attempt_login(data) -> tuple[Form, int, dict, User | None]:
    name = usernames.normalize(data.get("username", ""))
    password = data.get("password", "")
    form = Form(values={"username": name})
    if not name or not password or len(password) > hashing.MAX_LENGTH:
        if not name:
            form.error("username", "Enter your username.")
        if not password:
            form.error("password", "Enter your password.")
        elif len(password) > hashing.MAX_LENGTH:
            form.error("password", f"Passwords are at most {hashing.MAX_LENGTH:,} characters.")
        return form, 422, {}, None

    # Guesses at one account are counted per client address, so a stranger's failures never
    # lock the owner out from their own address; each address is also limited overall.
    by_user = current_app.extensions["login_limiter_user"]
    by_ip = current_app.extensions["login_limiter_ip"]
    ip_key = auth.client_block()
    user_key = f"{usernames.key(name)}|{ip_key}"
    wait = by_user.retry_after(user_key) or by_ip.retry_after(ip_key)
    if wait:
        form.error("form", f"Too many failed attempts. Try again in {wait} seconds.")
        return form, 429, {"Retry-After": str(wait)}, None

    user = await service.authenticate(name, password)
    if user is not None:
        by_user.reset(user_key)
        return form, 200, {}, user
    by_user.fail(user_key)
    by_ip.fail(ip_key)
    form.error("form", "That username and password do not match an account.")
    return form, 422, {}, None


@bp.post("/logout")
async def logout() -> Response:
    """Log out this browser (its session row is deleted, not just the cookie)."""
    await auth.end_session()
    await flash("You have logged out.")
    return redirect_to("/login")


@bp.get("/users/<username>")
@auth.login_required
async def profile(username: str) -> Response:
    """A member's profile: name, presence, joined; the owner also sees the email address."""
    person = await service.get_user(username)
    me = auth.current()
    is_owner = person.id == me.id
    # Feedback is between its author and the admins; other members see the profile only.
    feedback = await Feedback.filter(author_id=person.id).order_by("-id") if is_owner or me.is_admin else None
    can_delete = service.may_delete_account(me, person)
    return await render(
        "accounts/profile.html", person=person, is_owner=is_owner, feedback=feedback, can_delete=can_delete,
        online_ids=await events.online_ids([person.id]),
    )


@bp.get("/account/sessions")
@auth.login_required
async def sessions() -> Response:
    """Where I am logged in, with a way to end any of it."""
    return await render("accounts/sessions.html", "accounts/_sessions.html", **await _sessions_context())


SESSIONS_PAGE = 20


async def _sessions_context() -> dict:
    """This device first, then the others, most recent login first, a page at a time."""
    this = auth.current_session()
    others = UserSession.filter(user_id=this.user_id, kind="web").exclude(id=this.id)
    before = id_param(request.args.get("before"))
    rows, next_before = await page(others.order_by("-id"), before=before, size=SESSIONS_PAGE)
    return {
        "sessions": ([] if before else [this]) + rows,
        "this_session": this,
        "total": 1 + await others.count(),
        "next_before": next_before,
        "keep": current_app.config["HUDDLE"].sessions_per_user,
    }


@bp.post("/account/sessions/<int:session_id>/delete")
@auth.login_required
async def revoke(session_id: int) -> Response:
    """End one of my sessions; someone else's is simply not found."""
    row = await UserSession.get_or_none(id=session_id, user_id=auth.current().id)
    if row is None:
        abort(404, description="That session does not exist or has already ended.")
    if row.id == auth.current_session().id:
        await auth.end_session()
        await flash("You have logged out.")
        return redirect_to("/login")
    await service.revoke_session(auth.current(), row)
    if is_htmx():
        return Response("", status=200)  # htmx swaps the row away
    await flash("That session has been logged out.")
    return redirect("/account/sessions", code=303)


@bp.post("/account/sessions/others/delete")
@auth.login_required
async def revoke_others() -> Response:
    """Log out everywhere else: every browser session of mine but this one."""
    ended = await service.revoke_other_sessions(auth.current(), auth.current_session())
    message = f"Logged out of {ended} other session{'' if ended == 1 else 's'}."
    if is_htmx():
        return await render("accounts/_sessions.html", notice=message, **await _sessions_context())
    await flash(message)
    return redirect("/account/sessions", code=303)
