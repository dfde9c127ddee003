"""Account use cases: register, log in, set a password, end sessions, delete an account.

Every function takes explicit arguments (the acting user, values), never the request; raises
app.domain errors; runs its own transaction; and publishes on the live channel only after it
commits. The HTML views, the JSON API, the command line and the tests all call these."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app import clock, signals
from app.accounts.rules import check_new_account, check_new_password
from app.domain import Invalid, NotAllowed, NotFound, quotable, storable
from app.models import (
    AuditEvent,
    Feedback,
    Invitation,
    InvitationUse,
    Message,
    PasswordResetToken,
    ReservedName,
    User,
    UserSession,
    hashing,
    names,
)
from app.models.actor import Actor, check_actor
from app.realtime.events import force_logout, people_changed
from app.runtime import runtime
from app.web.forms import Form

TAKEN = "That username or email address is taken."
LAST_ADMIN_DELETE = "The last administrator cannot be deleted."
WRONG_PASSWORDS = "Too many wrong passwords. Try again in {wait} seconds."


@contextmanager
def unique_names() -> Iterator[None]:
    """Someone took the name or address between our check and the write: the one answer to that."""
    try:
        yield
    except IntegrityError:
        raise Invalid({"username": TAKEN}) from None


async def get_user(username: str) -> User:
    """The user with this name (any case or width), or NotFound."""
    user = await User.by_username(username)
    if user is None:
        raise NotFound(f"There is no user called {quotable(username)}.")
    return user


REGISTRATION_MODES = ("invite", "open", "closed")
INVITATION_SPENT = "This invitation link has been used up, revoked or has expired. Ask for a new one."


async def registration_mode(setting: str) -> str:
    """"first" while there is no account (the first registers freely and becomes the
    administrator), else the site's setting: "invite", "open" or "closed"."""
    if not await User.exists():
        return "first"
    return setting if setting in REGISTRATION_MODES else "invite"


async def register(username: str, email: str, password: str, confirm: str, *,
                   invitation: Invitation | None = None, display_name: str = "") -> User:
    """Create an account with the registration rules; the very first account is the administrator.
    With an invitation, one of its uses is taken in the same transaction (or nothing is made);
    one mailed to an address registers that address (the link reached it), whatever was typed."""
    if invitation is not None and invitation.email:
        email = invitation.email
    form = await check_new_account(
        {"username": username, "email": email, "password": password, "confirm_password": confirm,
         "display_name": display_name},
        quiet_email=True,  # anyone may try: a taken address is told only on an otherwise good form
    )
    if not form.ok:
        raise Invalid(form.errors)
    digest = await hashing.hash_password(password)  # outside the transaction: argon2 takes a while
    with unique_names():
        async with in_transaction() as conn:
            await User.lock_admins(conn)
            user = await User.create_account(form.values["username"], form.values["email"], password_hash=digest,
                                             display_name=form.values["display_name"])
            # Decided after the insert, in one statement, so two first registrations at the same
            # moment cannot both see an empty table (see User.lock_admins).
            user.is_admin = await User.claim_first_admin(conn, user.id)
            if invitation is not None:
                if not await invitation.consume(conn):
                    raise Invalid({"invitation": INVITATION_SPENT})
                await InvitationUse.create(invitation_id=invitation.id, user=user, username=user.username,
                                           joined_at=clock.now())
            how = {"first_admin": True} if user.is_admin else (
                {"invited_by": invitation.created_by_name} if invitation is not None else {})
            await AuditEvent.record(user, "user.registered", user, **how)
    await signals.user_created.send(user)
    await people_changed()
    return user


async def by_login_name(name: str) -> User | None:
    """The account a login names: its username (any case or width) or its email address."""
    if "@" in name:
        email = name.strip().lower()
        return await User.get_or_none(email=email) if len(email) <= 254 and storable(email) else None
    return await User.by_username(name)


async def authenticate(username: str, password: str) -> User | None:
    """The user these credentials name (by username or email), or None. An unknown name costs
    the same hash as a wrong password, so neither the answer nor its timing says which accounts
    exist."""
    user = await by_login_name(username)
    if await hashing.verify_password(password, user.password_hash if user else None):
        return user
    return None


async def end_session(session: UserSession, reason: str) -> None:
    """End one session: its row goes, and every page open on it goes to the login page."""
    await session.delete()
    await force_logout(f"session:{session.id}", reason)


async def end_sessions(user: User, reason: str, *, keep: UserSession | None = None, kind: str | None = None) -> int:
    """Delete the user's sessions (all, or all but one), then push their pages to the login page."""
    async with in_transaction():
        ended = await _delete_sessions(user, keep=keep, kind=kind)
    await log_out_sessions(ended, reason)
    return len(ended)


async def revoke_session(user: User, session: UserSession) -> None:
    """The user logs out one of their sessions (on another device): audited."""
    async with in_transaction():
        await UserSession.filter(id=session.id, user_id=user.id).delete()
        await AuditEvent.record(user, "sessions.revoked", user, device=session.device)
    await force_logout(f"session:{session.id}", "revoked")


async def revoke_other_sessions(user: User, keep: UserSession | None) -> int:
    """Log out everywhere else: every browser session of the user but keep; audited if any ended."""
    async with in_transaction():
        ended = await _delete_sessions(user, keep=keep, kind="web")
        if ended:
            await AuditEvent.record(user, "sessions.revoked", user, others=len(ended))
    await log_out_sessions(ended, "revoked")
    return len(ended)


async def _delete_sessions(user: User, *, keep: UserSession | None = None, kind: str | None = None) -> list[int]:
    query = UserSession.filter(user_id=user.id)
    if kind is not None:
        query = query.filter(kind=kind)
    if keep is not None:
        query = query.exclude(id=keep.id)
    ids = await query.values_list("id", flat=True)
    await UserSession.filter(id__in=ids).delete()
    return ids


async def trim_sessions(user: User, keep: int, kind: str = "web") -> int:
    """Keep the user's newest `keep` sessions of a kind (browsers, API tokens); older ones end
    (and their pages and sockets log out)."""
    async with in_transaction():
        old = await UserSession.filter(user_id=user.id, kind=kind).order_by("-id").offset(keep).values_list(
            "id", flat=True
        )
        if old:
            await UserSession.filter(id__in=old).delete()
    await log_out_sessions(old, "revoked")
    return len(old)


async def log_out_sessions(session_ids: list[int], reason: str) -> None:
    for session_id in session_ids:
        await force_logout(f"session:{session_id}", reason)


async def set_password(
    user: User, new_password: str, *, actor: Actor, reason: str,
    keep_session: UserSession | None = None, confirm: str | None = None,
) -> int:
    """Give user a new password. `reason` is the audit action (password.reset, password.changed,
    password.set_by_admin). Outstanding reset links die and every session of the user ends but
    keep_session; returns how many ended. With confirm, it must match."""
    if check_actor(actor).id != user.id and not actor.is_admin:
        raise NotAllowed("Only this user and administrators can set this password.")
    form = Form()
    confirm = new_password if confirm is None else confirm
    check_new_password({"password": new_password, "confirm_password": confirm}, form)
    if not form.ok:
        raise Invalid(form.errors)
    digest = await hashing.hash_password(new_password)  # outside the transaction
    async with in_transaction():
        ended = await write_password(user, digest, actor=actor, reason=reason, keep_session=keep_session)
    await log_out_sessions(ended, "password")
    return len(ended)


async def write_password(
    user: User, digest: str, *, actor: Actor, reason: str, keep_session: UserSession | None
) -> list[int]:
    """Inside the caller's transaction: the new hash, no reset links, the audit entry, and the
    sessions deleted (their ids returned: the caller logs them out after commit)."""
    user.password_hash = digest
    await User.filter(id=user.id).update(password_hash=digest)
    await PasswordResetToken.filter(user_id=user.id).delete()
    await AuditEvent.record(actor, reason, user)
    return await _delete_sessions(user, keep=keep_session)


async def change_password(
    user: User, current: str, new_password: str, confirm: str, *, keep_session: UserSession | None
) -> int:
    """The user changes their own password, knowing the current one; keep_session stays logged in.
    Guessing the current password (from a stolen session) is throttled like a login: wrong ones
    count per user, and past the limit nothing is checked (RateLimited). Each check is counted
    before the verify (so checks at once cannot all slip through) and given back when right."""
    guess = await runtime().limiters.password_user.spend(str(user.id), WRONG_PASSWORDS)
    form = Form()
    if await hashing.verify_password(current, user.password_hash):
        await guess.give_back()
    else:
        form.error("current_password", "That is not your current password.")
    check_new_password({"password": new_password, "confirm_password": confirm}, form)
    if not form.ok:
        raise Invalid(form.errors)
    return await set_password(user, new_password, actor=user, reason="password.changed", keep_session=keep_session)


def deletion_refusal(actor: Actor, target: User) -> str | None:
    """Why actor may not delete target's account, or None: the owner may (unless an admin), and an
    admin may delete anyone else's. Whether the target is the last admin is checked on delete."""
    if check_actor(actor).id == target.id:
        return "Administrators cannot delete their own account; another administrator can." if actor.is_admin else None
    if not actor.is_admin:
        return "Only this user and administrators can do that."
    return None


def may_delete_account(actor: Actor, target: User) -> bool:
    return deletion_refusal(actor, target) is None


async def delete_account(actor: Actor, target: User) -> None:
    """Delete target's account with all that is theirs, if actor may; never the last administrator."""
    if why := deletion_refusal(actor, target):
        raise NotAllowed(why)
    async with in_transaction() as conn:
        await User.lock_admins(conn)
        if not await User.revoke_admin_unless_last(conn, target.id):
            if await User.exists(id=target.id):
                raise NotAllowed(LAST_ADMIN_DELETE)
            raise NotFound("That user does not exist (perhaps already deleted).")
        # Sessions (web and API tokens) go explicitly, not only by cascade, so nothing of the
        # user's access depends on the database's foreign-key settings.
        sessions = await UserSession.filter(user_id=target.id).delete()
        feedback = await Feedback.filter(author_id=target.id).delete()
        await PasswordResetToken.filter(user_id=target.id).delete()
        await AuditEvent.record(actor, "user.deleted", target, sessions=sessions, feedback=feedback)
        # Its messages stay under the name it had last, and that name is kept from newcomers.
        await Message.filter(author_id=target.id).update(author_name=target.username)
        await ReservedName.reserve(target.username, target, "deleted")
        await target.delete()
    await names.new_epoch()  # quotes, thread summaries and chips that named them render anew
    await force_logout(f"user:{target.id}", "deleted")
    await signals.account_deleted.send(target)
    await people_changed()
