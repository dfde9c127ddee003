"""Admin use cases: add, edit and delete users, grant and take administrator rights.

`actor` is the administrator doing it, or SYSTEM (app/models/actor.py) for the operator on the
command line, passed explicitly: None is refused (TypeError), never taken for the command line.
`values` is a mapping of username, email, password, confirm_password and is_admin (a bool:
parsing a checkbox is the HTML view's business). Like every service: no
request, domain errors, its own transaction, live events only after commit."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from app import signals
from app.accounts.names import announce, labels_around, skeletons_of
from app.accounts.rules import check_new_account
from app.accounts.service import delete_account, deletion_refusal, log_out_sessions, unique_names, write_password
from app.domain import Invalid, NotAllowed, NotFound
from app.models import AuditEvent, ReservedName, User, UserSession, hashing, usernames
from app.models.actor import SYSTEM, Actor, check_actor
from app.realtime.events import people_changed, reload_scope


def last_admin(user: User) -> str:
    return f"{user.username} is the last administrator and must stay one."


def _require_admin(actor: Actor) -> None:
    if not check_actor(actor).is_admin:
        raise NotAllowed("Only administrators can do that.")


async def create_user(actor: Actor, values: Mapping[str, Any]) -> User:
    """Add a user with the registration rules, an administrator if values["is_admin"]."""
    _require_admin(actor)
    form = await check_new_account(values)
    if not form.ok:
        raise Invalid(form.errors)
    make_admin = bool(values.get("is_admin"))
    digest = await hashing.hash_password(values["password"])  # outside the transaction
    with unique_names():
        async with in_transaction():
            person = await User.create_account(
                form.values["username"], form.values["email"], password_hash=digest, is_admin=make_admin,
                display_name=form.values["display_name"],
            )
            if actor is SYSTEM:  # one entry: "The command line created an administrator account for …"
                await AuditEvent.record(actor, "user.created", person, admin=make_admin)
            else:
                await AuditEvent.record(actor, "user.created", person)
                if make_admin:
                    await AuditEvent.record(actor, "admin.granted", person)
    await signals.user_created.send(person)
    await people_changed()
    return person


async def update_user(
    actor: Actor, target: User, values: Mapping[str, Any], *, keep_session: UserSession | None = None
) -> User:
    """Save username, email, admin and (when one is given) a new password, audited as a diff. A new
    password ends target's sessions but keep_session (the one the change came from, if theirs);
    taking admin away reloads their open admin pages. The last administrator stays one."""
    _require_admin(actor)
    if "display_name" not in values:  # a door without the field (the command line) keeps it
        values = {**values, "display_name": target.display_name}
    form = await check_new_account(values, exclude=target, password_required=False)
    make_admin = bool(values.get("is_admin"))
    if target.is_admin and not make_admin and await User.filter(is_admin=True).count() == 1:
        form.error("is_admin", last_admin(target))  # shown with the other errors; decided below for sure
    if not form.ok:
        raise Invalid(form.errors)
    new = form.values
    changes = [
        [name, getattr(target, name), new[name]] for name in ("username", "display_name", "email")
        if getattr(target, name) != new[name]
    ]
    password = values.get("password") or ""
    digest = await hashing.hash_password(password) if password else None  # outside the transaction
    ended: list[int] = []
    names = ("username", "username_key", "username_skeleton", "username_shown_skeleton",
             "display_name", "display_name_skeleton")
    before = {name: getattr(target, name) for name in (*names, "email", "password_hash")}
    old_skeletons = skeletons_of(target)
    labels_before = await labels_around({target.id}, *old_skeletons) if any(c[0] != "email" for c in changes) else {}
    try:
        with unique_names():
            async with in_transaction() as conn:
                was_admin = await _set_admin(conn, target, make_admin)
                if new["username"] != target.username:  # (an unchanged name keeps its columns as they are)
                    # The old name stays reserved (app/models/reserved.py); one of target's own
                    # old names taken back is theirs again.
                    await ReservedName.reserve(target.username, target, "renamed")
                    await ReservedName.filter(name_key=usernames.key(new["username"]), user_id=target.id).delete()
                    target.set_username(new["username"])
                if new["display_name"] != target.display_name:
                    target.set_display_name(new["display_name"])
                target.email = new["email"]
                await target.save(update_fields=[*names, "email"])
                if changes:
                    await AuditEvent.record(actor, "user.edited", target, changes=changes)
                if was_admin != make_admin:
                    await AuditEvent.record(actor, "admin.granted" if make_admin else "admin.removed", target)
                if digest:
                    ended = await write_password(
                        target, digest, actor=actor, reason="password.set_by_admin", keep_session=keep_session
                    )
    except Exception:
        for name, value in before.items():  # nothing was saved: the caller shows target as it was
            setattr(target, name, value)
        raise
    target.is_admin = make_admin
    await _after_admin_change(target, was_admin, make_admin)
    if labels_before:  # renamed: every page and program hears who is called what now
        await announce(labels_before, {target.id}, *old_skeletons, *skeletons_of(target))
    await log_out_sessions(ended, "password")
    return target


async def set_admin(actor: Actor, target: User, admin: bool) -> None:
    """Grant or take away administrator rights (the command line's grant-admin)."""
    _require_admin(actor)
    async with in_transaction() as conn:
        was_admin = await _set_admin(conn, target, admin)
        action = "admin.granted" if admin else "admin.removed"
        await AuditEvent.record(actor, action, target)
    target.is_admin = admin
    await _after_admin_change(target, was_admin, admin)


async def _set_admin(conn: BaseDBAsyncClient, target: User, admin: bool) -> bool:
    """Inside a transaction: make target an administrator or not; returns whether they were one.
    Taking it away from the last administrator raises Invalid (field is_admin)."""
    await User.lock_admins(conn)
    was_admin = await User.filter(id=target.id).first().values_list("is_admin", flat=True)
    if was_admin is None:
        raise NotFound("That user does not exist (perhaps already deleted).")
    if admin and not was_admin:
        await User.filter(id=target.id).update(is_admin=True)
    elif was_admin and not admin and not await User.revoke_admin_unless_last(conn, target.id):
        raise Invalid({"is_admin": last_admin(target)})
    return bool(was_admin)


async def _after_admin_change(target: User, was_admin: bool, admin: bool) -> None:
    if was_admin and not admin:
        await reload_scope(f"user:{target.id}", "admin")  # their open admin pages lose access now
    if was_admin != admin:
        await people_changed()  # lists of people show who is an administrator


def check_delete(actor: Actor, target: User) -> None:
    """Refuse, before asking for confirmation, what delete_user would refuse outright: the area
    is for administrators, and who may delete an account is the one account rule (its words too)."""
    _require_admin(actor)
    if why := deletion_refusal(actor, target):
        raise NotAllowed(why)


async def delete_user(actor: Actor, target: User) -> None:
    """Delete a user from the admin area: administrators only, then the account rule
    (app.accounts.service.delete_account); never the last administrator."""
    check_delete(actor, target)
    await delete_account(actor, target)


async def reserved_names() -> list[ReservedName]:
    """Names kept from newcomers (renamed or deleted accounts'), by name."""
    return await ReservedName.all().order_by("name_key")


async def free_name(actor: Actor, reserved_id: int) -> str:
    """An administrator frees a reserved name: anyone may take it from now on. Audited."""
    _require_admin(actor)
    row = await ReservedName.get_or_none(id=reserved_id)
    if row is None:
        raise NotFound("That name is not reserved (perhaps already freed).")
    before = await labels_around(set(), row.name_skeleton)
    async with in_transaction():
        if not await ReservedName.filter(id=row.id).delete():
            raise NotFound("That name is not reserved (perhaps already freed).")
        await AuditEvent.record(actor, "name.freed", None, name=row.name, reason=row.reason)
    await announce(before, set(), row.name_skeleton)  # a display name like it may lose its @username
    return row.name
