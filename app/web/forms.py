"""Reading and checking the account forms: values to show again, and an error per field."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.accounts import hashing, usernames
from app.models import User

# Deliberately plain: the address must be one we can show and mail without surprises.
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


@dataclass
class Form:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)


def clean_email(raw: str) -> str:
    return raw.strip().lower()


async def check_new_account(data, *, exclude: User | None = None, password_required: bool = True) -> Form:
    """Register (and, later, admin add/edit): username, email, password and confirmation."""
    username = usernames.normalize(data.get("username", ""))
    email = clean_email(data.get("email", ""))
    password = data.get("password", "")
    confirm = data.get("confirm_password", "")
    # Typed values come back to the form; the password never does.
    form = Form(values={"username": username, "email": email})

    if not username:
        form.error("username", "Enter a username.")
    elif problem := usernames.problem(username):
        form.error("username", problem)
    else:
        taken = User.filter(username_key=usernames.key(username))
        if exclude is not None:
            taken = taken.exclude(id=exclude.id)
        if await taken.exists():
            form.error("username", "That username is taken.")

    if not email:
        form.error("email", "Enter an email address.")
    elif len(email) > 254 or not EMAIL_RE.match(email):
        form.error("email", "Enter a valid email address, like name@example.com.")
    else:
        taken = User.filter(email=email)
        if exclude is not None:
            taken = taken.exclude(id=exclude.id)
        if await taken.exists():
            form.error("email", "That email address is already registered.")

    if password or password_required:
        if not password:
            form.error("password", "Enter a password.")
        elif problem := hashing.password_problem(password):
            form.error("password", problem)
        if password != confirm:
            form.error("confirm_password", "The passwords do not match.")
    return form
