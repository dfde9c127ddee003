"""Account rules for every door (the pages, the JSON API, the command line): what a username,
email address and new password must be, and the words for each refusal, one per field."""
from __future__ import annotations

import re
import unicodedata

from tortoise.expressions import Q

from app import lookalikes
from app.domain import text_problem
from app.models import ReservedName, User, hashing, usernames
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
RESERVED = ("That username belonged to someone before and is kept, so that nobody can pass for them. "
            "Choose another (an administrator can free it).")
# Invisible and control characters: C0/C1 controls, format characters (zero-width, bidi
# controls), line and paragraph separators, private use, unassigned code points.
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}


def clean_email(raw: str) -> str:
    return raw.strip().lower()


def valid_email(email: str) -> bool:
    """An already cleaned address we can show and mail."""
    return len(email) <= 254 and bool(EMAIL_RE.match(email))


def account_values(data) -> dict[str, str]:
    """The typed username, display name and email as they come back to a form (the password never
    does)."""
    return {"username": usernames.normalize(data.get("username", "")),
            "display_name": clean_display_name(data.get("display_name", "")),
            "email": clean_email(data.get("email", ""))}


def clean_display_name(raw: str) -> str:
    """NFKC (full-width and other compatibility forms fold), spaces collapsed to one, trimmed."""
    return " ".join(unicodedata.normalize("NFKC", raw).split()) if isinstance(raw, str) else ""


def display_name_problem(name: str) -> str | None:
    """Why this (cleaned) display name cannot be shown as someone's name, or None. "" is fine (the
    username is shown). Nothing invisible or reordering (bidi controls), and no word mixing
    alphabets ("Аda" with a Cyrillic А): where a name still looks like another, the username is
    shown beside it (app/models/names.py)."""
    if len(name) > usernames.DISPLAY_NAME_MAX:
        return f"Keep the display name to {usernames.DISPLAY_NAME_MAX} characters."
    if problem := text_problem(name):
        return problem
    if any(unicodedata.category(ch) in _INVISIBLE for ch in name):
        return "Use visible letters, digits, spaces and punctuation only (no control or invisible characters)."
    if any(lookalikes.mixed_scripts(word) for word in name.split()):
        return "Write each word of the name in one alphabet (no Latin and Cyrillic letters mixed, say)."
    return None


def check_display_name(form: Form) -> None:
    """The display name field of a form (optional), its error into form."""
    if problem := display_name_problem(form.values.get("display_name", "")):
        form.error("display_name", problem)


async def reserved_for_another(username: str, owner: User | None = None) -> bool:
    """Whether this username (or one like it) is kept from an earlier owner other than `owner`."""
    folded, shown = usernames.skeletons(username)
    kept = await ReservedName.filter(
        Q(name_key=usernames.key(username)) | Q(name_skeleton=folded) | Q(name_shown_skeleton=shown)
    ).values_list("user_id", flat=True)
    return any(owner is None or user_id != owner.id for user_id in kept)


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
        elif (exclude is None or username != exclude.username) and await reserved_for_another(username, exclude):
            form.error("username", RESERVED)

    check_display_name(form)

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
