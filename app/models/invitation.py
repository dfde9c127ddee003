"""Invitation links: how people join when registration is by invitation (HUDDLE_REGISTRATION)."""
from __future__ import annotations

import secrets
from datetime import timedelta

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from app import clock
from app.models.session import hash_token
from app.models.user import User, _sql


class Invitation(Model):
    """A link an administrator made: single-use or for many, until it expires or is revoked.
    Only the token's hash is stored; the link is shown once, when it is made."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_by_name = fields.CharField(max_length=30, default="")
    note = fields.CharField(max_length=254, default="")  # e.g. the address it was mailed to
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    max_uses = fields.IntField(null=True)  # None: any number of people
    uses = fields.IntField(default=0)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "invitations"
        ordering = ["-id"]

    @classmethod
    async def issue(cls, actor: User, *, days: int, max_uses: int | None, note: str = "") -> tuple[Invitation, str]:
        token = secrets.token_urlsafe(24)
        now = clock.now()
        invitation = await cls.create(token_hash=hash_token(token), created_by=actor, created_by_name=actor.username,
                                      note=note[:254], created_at=now, expires_at=now + timedelta(days=days),
                                      max_uses=max_uses)
        return invitation, token

    @classmethod
    async def valid(cls, token: str | None) -> Invitation | None:
        """The invitation this token names, if it can still be used."""
        if not token or len(token) > 200:
            return None
        found = await cls.get_or_none(token_hash=hash_token(token))
        return found if found is not None and found.usable else None

    @property
    def email(self) -> str:
        """The address a one-person invitation was mailed to (kept in note), else "": who
        registers through it registers with that address."""
        return self.note if self.max_uses == 1 and "@" in self.note else ""

    @property
    def usable(self) -> bool:
        return (self.revoked_at is None and self.expires_at > clock.now()
                and (self.max_uses is None or self.uses < self.max_uses))

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= clock.now():
            return "expired"
        if self.max_uses is not None and self.uses >= self.max_uses:
            return "used"
        return "active"

    async def consume(self, conn: BaseDBAsyncClient) -> bool:
        """Count one use, in one conditional UPDATE inside the registration's transaction: two
        people racing for the last use of a link cannot both get it."""
        if self.expires_at <= clock.now():
            return False
        rows = await conn.execute_query_dict(_sql(conn, """
            UPDATE invitations SET uses = uses + 1
            WHERE id = ? AND revoked_at IS NULL AND (max_uses IS NULL OR uses < max_uses)
            RETURNING id"""), [self.id])
        return bool(rows)


class InvitationUse(Model):
    """Who joined through which invitation."""

    id = fields.IntField(primary_key=True)
    invitation: fields.ForeignKeyRelation[Invitation] = fields.ForeignKeyField(
        "models.Invitation", related_name="joined", on_delete=fields.CASCADE, db_index=True
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    username = fields.CharField(max_length=30)
    joined_at = fields.DatetimeField()

    class Meta:
        table = "invitation_uses"
        ordering = ["id"]
