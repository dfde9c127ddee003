"""Invitation links, made, mailed and revoked by administrators (the rules; app/admin/routes.py
shows them)."""
from __future__ import annotations

from quart import current_app
from tortoise.transactions import in_transaction

from app import clock, mail
from app.accounts.rules import clean_email, valid_email
from app.domain import Invalid, NotAllowed, text_problem
from app.models import AuditEvent, Invitation, User
from app.runtime import runtime
from app.web.urls import external_url
from app.words import plural

MAX_DAYS = 30


def check(kind: str, days: str, email: str) -> tuple[int | None, int, str]:
    errors = {}
    if kind not in ("single", "multi"):
        errors["kind"] = "Choose who the link is for: one person, or several."
    try:
        number = int(days)
        if not 1 <= number <= MAX_DAYS:
            raise ValueError
    except (TypeError, ValueError):
        errors["days"] = f"Choose from 1 to {MAX_DAYS} days."
        number = 7
    email = clean_email(email or "")
    if problem := text_problem(email):
        errors["email"] = problem
    elif email and not valid_email(email):
        errors["email"] = "Enter a valid email address, like name@example.com (or leave it empty)."
    if email and kind == "multi":
        errors.setdefault("email", "A link mailed to one person is for one person: choose “One person”.")
    if errors:
        raise Invalid(errors)
    return (1 if kind == "single" else None), number, email


async def create(actor: User, kind: str, days: str, email: str = "") -> tuple[Invitation, str]:
    if not actor.is_admin:
        raise NotAllowed("Only administrators can invite people.")
    max_uses, number, email = check(kind, days, email)
    async with in_transaction():
        invitation, token = await Invitation.issue(actor, secret=current_app.secret_key, days=number,
                                                   max_uses=max_uses, note=email)
        await AuditEvent.record(actor, "invitation.created", None, uses=max_uses, days=number, email=email)
    if email:  # sent in the background, after commit: the page does not wait for the mail server
        text = await mail.body("invitation.txt", inviter=actor.username, link=link(token), days=plural(number, "day"))
        mailer = runtime().mailer
        mailer.run_later(mailer.deliver(email, f"{actor.username} invites you to Huddle", text))
    return invitation, token


def link(token: str) -> str:
    """The invitation's address, to share or mail."""
    return external_url("accounts.join", token=token)


def link_of(invitation: Invitation) -> str | None:
    """The link again, for admins to copy while it can be used (see Invitation.token); None when
    it cannot be made again (an invitation from before links were kept: make a new one)."""
    token = invitation.token(current_app.secret_key)
    return link(token) if token else None


async def revoke(actor: User, invitation: Invitation) -> None:
    if not actor.is_admin:
        raise NotAllowed("Only administrators can revoke invitations.")
    if invitation.revoked_at is None:
        now = clock.now()
        async with in_transaction():  # revoked and audited once, even by two admins at the same moment
            if await Invitation.filter(id=invitation.id, revoked_at=None).update(revoked_at=now):
                await AuditEvent.record(actor, "invitation.revoked", None, made_by=invitation.created_by_name)
        invitation.revoked_at = now
