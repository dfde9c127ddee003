"""Accounts: register, log in and out, profiles, the sessions a user can end, and deleting an
account (one's own, or someone's by an administrator)."""
from __future__ import annotations

from quart import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from quart_auth import logout_user

from app import signals
from app.accounts import auth, names, service
from app.accounts.rules import account_values, clean_display_name
from app.domain import DomainError, Invalid, NotAllowed, RateLimited
from app.models import User, UserSession, usernames
from app.models.paging import page
from app.realtime import events
from app.realtime.events import LOGOUT_REASONS
from app.web.errors import safe_next
from app.web.forms import Form, domain_error_page
from app.web.htmx import is_htmx, redirect_to, render, toast
from app.web.urls import id_param

bp = Blueprint("accounts", __name__)
bp.register_error_handler(DomainError, domain_error_page)


@bp.route("/register", methods=["GET", "POST"])
async def register() -> Response:
    """Create an account: the very first one freely (it is the administrator), then as the site's
    registration mode says: with an invitation link (the default), by anyone, or not at all."""
    if auth.current():
        return redirect(url_for("home.index"), code=303)
    form, headers = Form(), {}
    data = await request.form if request.method == "POST" else request.args
    token = (data.get("invitation") or "").strip()[:200]
    mode = await service.registration_mode(current_app.config["HUDDLE"].registration)
    try:
        invitation = await auth.invitation_for(token)
    except NotAllowed as refused:
        return await render("accounts/register_blocked.html", status=403, message=refused.message,
                            closed=mode == "closed")
    if request.method == "POST":
        try:
            user = await auth.register_account(
                data.get("username", ""), data.get("email", ""),
                data.get("password", ""), data.get("confirm_password", ""), token or None,
                display_name=data.get("display_name", ""),
            )
        except Invalid as refused:
            form = Form(values=account_values(data), errors=refused.errors)
        except RateLimited as refused:
            form.error("form", refused.message)
            headers["Retry-After"] = str(refused.retry_after)
        except NotAllowed as refused:  # the invitation was used up meanwhile
            return await render("accounts/register_blocked.html", status=403, message=refused.message,
                                closed=False)
        else:
            await auth.start_session(user)
            if user.is_admin:
                # The first account: what to do next is invite the team (the page says so, once).
                return redirect_to(url_for("admin.invitation_list", welcome=1))
            await flash(f"Welcome to Huddle, {user.shown_name}!")
            # A new account lands in the chat: /chat opens #general, which every account is in.
            return redirect_to(url_for("chat.index"))
    if invitation is not None and invitation.email:  # mailed to one address: the account's, fixed
        form.values["email"] = invitation.email
    response = await render(
        "accounts/register.html", "accounts/_register_form.html",
        status=429 if headers else 422 if form.errors else 200, form=form, first=mode == "first",
        invitation=invitation, invitation_token=token if invitation else "",
        invited_email=invitation.email if invitation is not None else "",
    )
    response.headers.update(headers)
    return response


@bp.get("/join/<token>")
async def join(token: str) -> Response:
    """An invitation link: the registration form, carrying the invitation."""
    return redirect(url_for("accounts.register", invitation=token[:200]), code=303)


@bp.route("/login", methods=["GET", "POST"])
async def login() -> Response:
    """Log in with username and password; throttled, and silent about which accounts exist."""
    next_url = safe_next(request.args.get("next"))
    if auth.current():
        return redirect(next_url or url_for("chat.index"), code=303)
    form = Form()
    status = 200
    headers = {}
    if request.method == "POST":
        data = await request.form
        next_url = safe_next(data.get("next")) or next_url
        form, status, headers, user = await _attempt_login(data)
        if user is not None:
            await auth.start_session(user)
            return redirect_to(next_url or url_for("chat.index"))  # logging in lands in chat
    response = await render(
        "accounts/login.html", "accounts/_login_form.html", status=status, form=form, next=next_url,
        reason=LOGOUT_REASONS.get(request.args.get("reason", "")),
    )
    response.headers.update(headers)
    return response


async def _attempt_login(data) -> tuple[Form, int, dict, User | None]:
    form = Form(values={"username": usernames.normalize(data.get("username", ""))})
    try:
        user = await auth.check_login(data.get("username", ""), data.get("password", ""))
    except Invalid as refused:
        form.errors.update(refused.errors)
        return form, 422, {}, None
    except RateLimited as refused:
        form.error("form", refused.message)
        return form, 429, {"Retry-After": str(refused.retry_after)}, None
    return form, 200, {}, user


@bp.post("/logout")
async def logout() -> Response:
    """Log out this browser (its session row is deleted, not just the cookie)."""
    await auth.end_session()
    await flash("You have logged out.")
    return redirect_to(url_for("accounts.login"))


@bp.get("/users/<username>")
@auth.login_required
async def profile(username: str) -> Response:
    """A member's profile: name, presence, joined; the owner also sees the email address."""
    person = await service.get_user(username)
    me = auth.current()
    is_owner = person.id == me.id
    sections = {"feedback": None}  # what other features show here, each deciding who sees it
    for section in await signals.profile_shown.send(me, person):
        sections.update(section)
    return await render(
        "accounts/profile.html", person=person, is_owner=is_owner, can_delete=service.may_delete_account(me, person),
        online_ids={me.id} if is_owner else await events.online_ids([person.id]), **sections,
    )


@bp.post("/users/<username>/delete")
@auth.login_required
async def delete_account(username: str) -> Response:
    """Delete an account with its feedback and every session: the owner's own, or anyone's by an
    admin (not their own); who may is one rule (service.deletion_refusal)."""
    person = await service.get_user(username)
    me = auth.current()
    await service.delete_account(me, person)
    if person.id == me.id:
        logout_user()
        await flash("Your account and your feedback have been deleted.")
        return redirect_to(url_for("home.index"))
    await flash(f"Deleted {person.username} and their feedback.")
    return redirect_to(url_for("admin.users"))


@bp.route("/account/name", methods=["GET", "POST"])
@auth.login_required
async def display_name() -> Response:
    """Choose my display name (or none: my username is shown); every open page shows it at once."""
    me = auth.current()
    form, status, saved = Form(values={"display_name": me.display_name}), 200, None
    if request.method == "POST":
        typed = (await request.form).get("display_name", "")
        try:
            await names.set_display_name(me, me, typed)
        except Invalid as refused:
            form, status = Form(values={"display_name": clean_display_name(typed)}, errors=refused.errors), 422
        else:
            saved = f"Saved: you are shown as {me.shown_name}."
            if not is_htmx():
                await flash(saved)
                return redirect(url_for("accounts.profile", username=me.username), code=303)
            form = Form(values={"display_name": me.display_name})
    return await render("accounts/display_name.html", "accounts/_display_name_form.html", status=status,
                        form=form, saved=saved, account_username=me.username)


@bp.get("/account/sessions")
@auth.login_required
async def sessions() -> Response:
    """Where I am logged in, with a way to end any of it."""
    return await render("accounts/sessions.html", "accounts/_sessions.html", **await _sessions_context())


SESSIONS_PAGE = 20


async def _sessions_context() -> dict:
    """This device first, then the others, most recent login first, a page at a time."""
    this = auth.current_session()
    others = UserSession.filter(user_id=this.user_id).exclude(id=this.id)  # browsers and API tokens
    before = id_param(request.args.get("before"))
    rows, next_before = await page(others.order_by("-id"), before=before, size=SESSIONS_PAGE)
    return {
        "sessions": ([] if before else [this]) + rows,
        "this_session": this,
        "total": 1 + await others.count(),
        "other_browsers": await others.filter(kind="web").count(),
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
        return redirect_to(url_for("accounts.login"))
    await service.revoke_session(auth.current(), row)
    message = "That API token has been revoked." if row.kind == "api" else "That session has been logged out."
    if is_htmx():  # the whole list again: its count and "Log out everywhere else" stay true
        return toast(await render("accounts/_sessions.html", **await _sessions_context()), message)
    await flash(message)
    return redirect(url_for("accounts.sessions"), code=303)


@bp.post("/account/sessions/others/delete")
@auth.login_required
async def revoke_others() -> Response:
    """Log out everywhere else: every browser session of mine but this one."""
    ended = await service.revoke_other_sessions(auth.current(), auth.current_session())
    message = f"Logged out of {ended} other session{'' if ended == 1 else 's'}."
    if is_htmx():
        return toast(await render("accounts/_sessions.html", **await _sessions_context()), message)
    await flash(message)
    return redirect(url_for("accounts.sessions"), code=303)
