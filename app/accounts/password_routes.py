"""Passwords: forgotten (reset by an emailed link) and changed while logged in."""
from __future__ import annotations

from quart import Blueprint, Response, current_app, flash, request, url_for

from app.accounts import auth, passwords, service
from app.accounts.rules import CURRENT_PASSWORD_CLEARED, CURRENT_PASSWORD_MISSING, clean_email
from app.domain import DomainError, Invalid, RateLimited
from app.models import PasswordResetToken
from app.web.forms import Form, domain_error_page
from app.web.htmx import redirect_to, render

bp = Blueprint("password", __name__)
bp.register_error_handler(DomainError, domain_error_page)

SENT = (
    "If an account uses that address, we have sent it a link to reset the password. "
    "The link works once, for {minutes} minutes. Check your inbox (and spam folder)."
)


@bp.route("/password/forgot", methods=["GET", "POST"])
async def forgot() -> Response:
    """Ask for a reset link. The answer never says whether the address has an account."""
    form, status, headers, sent = Form(), 200, {}, None
    if request.method == "POST":
        email = (await request.form).get("email", "")
        form.values["email"] = clean_email(email)
        try:
            await passwords.request_reset(email, auth.client_block())
        except Invalid as refused:
            form.errors.update(refused.errors)
            status = 422
        except RateLimited as refused:
            form.error("form", refused.message)
            status, headers = 429, {"Retry-After": str(refused.retry_after)}
        else:
            sent = SENT.format(minutes=current_app.config["HUDDLE"].reset_token_seconds // 60)
    response = await render(
        "password/forgot.html", "password/_forgot_form.html", status=status, form=form, sent=sent
    )
    response.headers.update(headers)
    return response


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
async def reset(token: str) -> Response:
    """Choose a new password with the emailed token; every session of the user ends."""
    row = await PasswordResetToken.find(token)
    if row is None:
        return await render("password/invalid.html", status=404)
    form, status = Form(), 200
    if request.method == "POST":
        data = await request.form
        user = row.user
        try:
            await service.set_password(
                user, data.get("password", ""), confirm=data.get("confirm_password", ""),
                actor=user, reason="password.reset",
            )
        except Invalid as refused:
            form, status = Form(errors=refused.errors), 422
        else:
            if auth.current() is not None and auth.current().id != user.id:
                await auth.end_session()  # someone else's browser: it is not theirs to keep
            await flash("Your password has been changed. Log in with the new one.")
            return redirect_to(url_for("accounts.login"))
    return await render("password/reset.html", "password/_reset_form.html", status=status, form=form, token=token)


@bp.route("/account/password", methods=["GET", "POST"])
@auth.login_required
async def change() -> Response:
    """Change my password: this session stays, every other one ends."""
    form, status, headers = Form(), 200, {}
    if request.method == "POST":
        data = await request.form
        user = auth.current()
        try:
            ended = await service.change_password(
                user, data.get("current_password", ""), data.get("password", ""), data.get("confirm_password", ""),
                keep_session=auth.current_session(),
            )
        except RateLimited as refused:  # too many wrong current passwords (counted by the service)
            form.error("form", refused.message)
            status, headers = 429, {"Retry-After": str(refused.retry_after)}
        except Invalid as refused:
            errors = dict(refused.errors)
            if "current_password" in errors:
                # Every password field comes back empty: the message says so, and what to do.
                errors["current_password"] = (
                    CURRENT_PASSWORD_CLEARED if data.get("current_password") else CURRENT_PASSWORD_MISSING
                )
            form, status = Form(errors=errors), 422
        else:
            await flash(
                "Your password has been changed."
                + (f" Logged out of {ended} other session{'' if ended == 1 else 's'}." if ended else "")
            )
            return redirect_to(url_for("accounts.profile", username=user.username))
    response = await render("password/change.html", "password/_change_form.html", status=status, form=form)
    response.headers.update(headers)
    return response
