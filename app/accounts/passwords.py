"""Forgotten passwords: asking for a reset link. The rules (a real address, how often, the mail)
live here; app/accounts/password_routes.py shows them. Choosing the new password with the link
is service.set_password, like every other way of setting one."""
from __future__ import annotations

from app import mail
from app.accounts.rules import clean_email, valid_email
from app.domain import Invalid
from app.models import PasswordResetToken, User
from app.runtime import runtime
from app.web.throttle import take_all
from app.web.urls import external_url

NOT_AN_ADDRESS = "Enter the email address of your account, like name@example.com."
TOO_MANY = "Too many reset requests. Try again in {minutes} minutes."


async def request_reset(email: str, client: str) -> None:
    """Mail a single-use reset link to the account with this address, if there is one. The answer,
    and how long it takes, are the same either way: the account is looked up and mailed in the
    background. Requests are counted per address and client (a stranger's cannot stop the owner
    asking for a link) and per client overall, in one step with the check: RateLimited past
    either. Invalid for what is not an email address."""
    email = clean_email(email)
    if not valid_email(email):
        raise Invalid({"email": NOT_AN_ADDRESS})
    limiters = runtime().limiters
    await take_all(TOO_MANY, (limiters.reset_email, f"{email}|{client}"), (limiters.reset_ip, client))
    runtime().mailer.run_later(_mail_link(email))


async def _mail_link(email: str) -> None:
    user = await User.get_or_none(email=email)
    if user is None:
        return
    seconds = runtime().settings.reset_token_seconds
    token = await PasswordResetToken.issue(user, seconds)
    text = await mail.body("password_reset.txt", username=user.username, minutes=seconds // 60,
                           link=external_url("password.reset", token=token))
    await runtime().mailer.deliver(user.email, "Reset your Huddle password", text)
