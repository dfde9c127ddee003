"""Account rules for every door (the pages, the JSON API, the command line): what a username,
email address and new password must be, and the words for each refusal, one per field."""
from __future__ import annotations

import re

from tortoise.expressions import Q

from app.domain import text_problem
from app.models import User, hashing, usernames
from app.web.forms import Form

# Deliberately plain: the address must be one we can show and mail without surprises.
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")

PASSWORDS_DIFFER = "The passwords do not match."
# The page comes back with both password fields empty, so the mismatch is said in the past.
PASSWORDS_CLEARED = "The passwords did not match, so both were cleared: type the new password twice."
CURRENT_PASSWORD_CLEARED = (
    "That was not your current password, so the form was cleared: "
    "type your current password, then the new one twice."
)
CURRENT_PASSWORD_MISSING = "Enter your current password."
EMAIL_TAKEN = "That email address is already registered."


def clean_email(raw: str) -> str:
    return raw.strip().lower()


def valid_email(email: str) -> bool:
    """An already cleaned address we can show and mail."""
    return len(email) <= 254 and bool(EMAIL_RE.match(email))


def account_values(data) -> dict[str, str]:
    """The typed username and email as they come back to a form (the password never does)."""
    return {"username": usernames.normalize(data.get("username", "")), "email": clean_email(data.get("email", ""))}


def passwords_cleared(form: Form) -> Form:
    """An account form as a page shows it again, its new-password fields empty (a password is
    never sent back): a mismatch is told on the first of the two, as what happened and what to
    do, and not also under the emptied confirmation; beside another error about the new password
    it is left out (both are typed again anyway). The API keeps the plain errors. Templates call
    it as passwords_cleared(form)."""
    errors = dict(form.errors)
    if errors.get("confirm_password") == PASSWORDS_DIFFER:
        del errors["confirm_password"]
        errors.setdefault("password", PASSWORDS_CLEARED)
    return Form(values=form.values, errors=errors)


def check_new_password(data, form: Form, name: str = "password", *, missing: str = "Enter a new password.") -> None:
    """The new-password policy plus its confirmation, errors into form."""
    password, confirm = data.get(name, ""), data.get("confirm_password", "")
    if not password:
        form.error(name, missing)
    elif problem := hashing.password_problem(password):
        form.error(name, problem)
    if password != confirm:
        form.error("confirm_password", PASSWORDS_DIFFER)


async def check_new_account(data, *, exclude: User | None = None, password_required: bool = True,
                            quiet_email: bool = False) -> Form:
    """Register, admin add/edit and the command line: username, email, password and confirmation.

    quiet_email (registration, open to anyone): that the address is already registered is said
    only when everything else in the form is right. A person who has an account learns it as
    soon as the form is otherwise done; a stranger probing addresses must send a whole valid
    form each time (a free address then makes an account), and each try is counted."""
    form = Form(values=account_values(data))
    username, email = form.values["username"], form.values["email"]

    if not username:
        form.error("username", "Enter a username.")
    elif problem := text_problem(username) or usernames.problem(username):
        form.error("username", problem)
    else:
        others = User.all() if exclude is None else User.exclude(id=exclude.id)
        folded, shown = usernames.skeletons(username)
        if await others.filter(username_key=usernames.key(username)).exists():
            form.error("username", "That username is taken.")
        elif (exclude is None or username != exclude.username) and await others.filter(
            Q(username_skeleton=folded) | Q(username_shown_skeleton=shown)
        ).exists():  # (a name kept as it is stays, even one that already looked like another)
            form.error("username", usernames.TOO_CLOSE)

    if not email:
        form.error("email", "Enter an email address.")
    elif problem := text_problem(email):
        form.error("email", problem)
    elif not valid_email(email):
        form.error("email", "Enter a valid email address, like name@example.com.")

    if data.get("password") or password_required:
        check_new_password(data, form, missing="Enter a password.")

    if "email" not in form.errors and (form.ok or not quiet_email):
        taken = User.filter(email=email)
        if exclude is not None:
            taken = taken.exclude(id=exclude.id)
        if await taken.exists():
            form.error("email", EMAIL_TAKEN)
    return form
