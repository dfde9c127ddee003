"""One-time password reset tokens."""
from __future__ import annotations

import secrets
from datetime import timedelta

from tortoise import fields
from tortoise.models import Model

from app import clock
from app.models.session import hash_token
from app.models.user import User


def password_fingerprint(password_hash: str) -> str:
    """Changes whenever the password does: a reset token issued before that is void."""
    return hash_token(password_hash)


class PasswordResetToken(Model):
    """A one-time, expiring token for the emailed reset link; only its hash is stored."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="reset_tokens", on_delete=fields.CASCADE, db_index=True
    )
    password_fingerprint = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()

    class Meta:
        table = "password_reset_tokens"

    @classmethod
    async def issue(cls, user: User, lifetime: int) -> str:
        """A new token for user (>= 128 random bits); any older one is void from now on."""
        await cls.filter(user_id=user.id).delete()
        token = secrets.token_urlsafe(32)
        now = clock.now()
        await cls.create(
            token_hash=hash_token(token),
            user=user,
            password_fingerprint=password_fingerprint(user.password_hash),
            created_at=now,
            expires_at=now + timedelta(seconds=lifetime),
        )
        return token

    @classmethod
    async def find(cls, token: str) -> PasswordResetToken | None:
        """The live token, with its user; expired or superseded-by-a-new-password ones are None."""
        row = await cls.get_or_none(token_hash=hash_token(token)).select_related("user")
        if row is None:
            return None
        if row.expires_at <= clock.now() or row.password_fingerprint != password_fingerprint(row.user.password_hash):
            await row.delete()
            return None
        return row
