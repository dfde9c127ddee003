"""Account changes that several features share: ending sessions, deleting a user."""
from __future__ import annotations

from tortoise.transactions import in_transaction

from app.live.events import force_logout
from app.models import AuditEvent, Feedback, PasswordResetToken, User, UserSession


async def end_session(session: UserSession, reason: str) -> None:
    """End one session: its row goes, and every page open on it goes to the login page."""
    await session.delete()
    await force_logout(f"session:{session.id}", reason)


async def end_sessions(user: User, reason: str, *, keep: UserSession | None = None, kind: str | None = None) -> int:
    """Delete the user's sessions (all, or all but one) and push their pages to the login page."""
    query = UserSession.filter(user_id=user.id)
    if kind is not None:
        query = query.filter(kind=kind)
    if keep is not None:
        query = query.exclude(id=keep.id)
    ids = await query.values_list("id", flat=True)
    ended = await UserSession.filter(id__in=ids).delete()
    for session_id in ids:
        await force_logout(f"session:{session_id}", reason)
    return ended


async def delete_user(actor: User | None, target: User) -> None:
    """Delete a user and all that is theirs in one transaction, then log out their open pages."""
    async with in_transaction():
        # Sessions (web and API tokens) go explicitly, not only by cascade, so nothing of the
        # user's access depends on the database's foreign-key settings.
        sessions = await UserSession.filter(user_id=target.id).delete()
        feedback = await Feedback.filter(author_id=target.id).delete()
        await PasswordResetToken.filter(user_id=target.id).delete()
        detail = f"{sessions} session(s) ended, {feedback} feedback item(s) deleted"
        await AuditEvent.record(actor, "user.deleted", target, detail)
        await target.delete()
    await force_logout(f"user:{target.id}", "deleted")
