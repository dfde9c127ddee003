"""Invitation links: how people join when registration is by invitation (HUDDLE_REGISTRATION)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from app import clock
from app.models.session import hash_token
from app.models.user import User, _sql


def link_token(secret: str, link_key: str) -> str:
    """An invitation's token: 32 url-safe characters (192 bits) from the secret and its key."""
    digest = hmac.new(secret.encode(), b"huddle-invitation-link:" + link_key.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


class Invitation(Model):
    """A link an administrator made: single-use or for many, until it expires or is revoked.
    The token is never stored: its hash finds the invitation, and link_key (random) with the
    site's secret key makes the token again (HMAC), so admins can copy a usable link any time,
    while the database alone (a backup, a leak) holds no working link."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    link_key = fields.CharField(max_length=32, default="")  # "": made before links were kept (shown once)
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
    async def issue(cls, actor: User, *, secret: str, days: int, max_uses: int | None,
                    note: str = "") -> tuple[Invitation, str]:
        link_key = secrets.token_urlsafe(16)
        token = link_token(secret, link_key)
        now = clock.now()
        invitation = await cls.create(token_hash=hash_token(token), link_key=link_key,
                                      created_by=actor, created_by_name=actor.username,
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

    def token(self, secret: str) -> str | None:
        """The link's token again, while it can be used; None for an invitation from before links
        were kept, or when the site's secret key has changed since (the old token still works)."""
        if not self.link_key or not self.usable:
            return None
        token = link_token(secret, self.link_key)
        return token if hmac.compare_digest(hash_token(token), self.token_hash) else None

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
