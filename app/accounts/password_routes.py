"""Passwords: forgotten (reset by an emailed link) and changed while logged in."""
from __future__ import annotations

from quart import Blueprint, Response, current_app, flash, request
from tortoise.transactions import in_transaction

from app.accounts import auth, hashing
from app.web.forms import EMAIL_RE, Form, clean_email
from app.web.htmx import redirect_to, render
from app.models import AuditEvent, PasswordResetToken, User
from app.accounts.service import end_sessions

bp = Blueprint("password", __name__)

SENT = (
    "If an account uses that address, we have sent it a link to reset the password. "
    "The link works once, for {minutes} minutes. Check your inbox (and spam folder)."
)


def check_new_password(data, form: Form, name: str = "password") -> None:
    password, confirm = data.get(name, ""), data.get("confirm_password", "")
    if not password:
        form.error(name, "Enter a new password.")
    elif problem := hashing.password_problem(password):
        form.error(name, problem)
    if password != confirm:
        form.error("confirm_password", "The passwords do not match.")


@bp.route("/password/forgot", methods=["GET", "POST"])
async def forgot() -> Response:
    """Ask for a reset link. The answer never says whether the address has an account."""
    settings = current_app.config["HUDDLE"]
    form, status, headers, sent = Form(), 200, {}, None
    if request.method == "POST":
        data = await request.form
        email = clean_email(data.get("email", ""))
        form.values["email"] = email
        if not email or len(email) > 254 or not EMAIL_RE.match(email):
            form.error("email", "Enter the email address of your account, like name@example.com.")
            status = 422
        else:
            wait = _throttled(email)
            if wait:
                form.error("form", f"Too many reset requests. Try again in {wait // 60 + 1} minutes.")
                status, headers = 429, {"Retry-After": str(wait)}
            else:
                # Looked up and mailed in the background: the answer, and how long it takes,
                # are the same whether or not the address has an account.
                mailer = current_app.extensions["mailer"]
                mailer.run_later(_send_link(email, settings, mailer))
                sent = SENT.format(minutes=settings.reset_token_seconds // 60)
    response = await render(
        "password/forgot.html", "password/_forgot_form.html", status=status, form=form, sent=sent
    )
    response.headers.update(headers)
    return response


def _throttled(email: str) -> int | None:
    by_email = current_app.extensions["reset_limiter_email"]
    by_ip = current_app.extensions["reset_limiter_ip"]
    ip = auth.client_ip()
    wait = by_email.retry_after(email) or by_ip.retry_after(ip)
    if not wait:
        by_email.fail(email)
        by_ip.fail(ip)
    return wait


async def _send_link(email: str, settings, mailer) -> None:
    user = await User.get_or_none(email=email)
    if user is None:
        return
    token = await PasswordResetToken.issue(user, settings.reset_token_seconds)
    link = f"{settings.base_url}/password/reset/{token}"
    body = (
        f"Hello {user.username},\n\n"
        f"Someone (hopefully you) asked to reset the password of your Huddle account.\n"
        f"To choose a new password, open this link within {settings.reset_token_seconds // 60} minutes:\n\n"
        f"{link}\n\n"
        "The link works once. If you did not ask for this, ignore this message: "
        "your password stays as it is.\n"
    )
    await mailer.deliver(user.email, "Reset your Huddle password", body)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
async def reset(token: str) -> Response:
    """Choose a new password with the emailed token; every session of the user ends."""
    row = await PasswordResetToken.find(token)
    if row is None:
        return await render("password/invalid.html", status=404)
    form, status = Form(), 200
    if request.method == "POST":
        data = await request.form
        check_new_password(data, form)
        if form.ok:
            user = row.user
            async with in_transaction():
                user.password_hash = await hashing.hash_password(data["password"])
                await user.save(update_fields=["password_hash"])
                await PasswordResetToken.filter(user_id=user.id).delete()
                await AuditEvent.record(user, "password.reset", user, "with an emailed link")
            await end_sessions(user, "password")
            if auth.current() is not None and auth.current().id != user.id:
                await auth.end_session()  # someone else's browser: it is not theirs to keep
            await flash("Your password has been changed. Log in with the new one.")
            return redirect_to("/login")
        status = 422
    return await render("password/reset.html", "password/_reset_form.html", status=status, form=form, token=token)


@bp.route("/account/password", methods=["GET", "POST"])
@auth.login_required
async def change() -> Response:
    """Change my password: this session stays, every other one ends."""
    form, status = Form(), 200
    if request.method == "POST":
        data = await request.form
        user = auth.current()
        if not await hashing.verify_password(data.get("current_password", ""), user.password_hash):
            form.error("current_password", "That is not your current password.")
        check_new_password(data, form)
        if form.ok:
            user.password_hash = await hashing.hash_password(data["password"])
            await user.save(update_fields=["password_hash"])
            await AuditEvent.record(user, "password.changed", user)
            ended = await end_sessions(user, "password", keep=auth.current_session())
            await flash(
                "Your password has been changed."
                + (f" Logged out of {ended} other session{'' if ended == 1 else 's'}." if ended else "")
            )
            return redirect_to(f"/users/{user.username}")
        status = 422
    return await render("password/change.html", "password/_change_form.html", status=status, form=form)
