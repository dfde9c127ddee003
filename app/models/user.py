"""A member of the site."""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from app.accounts import hashing, usernames


class User(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=30)
    # Case-folded, NFKC-normalised username: what makes a name unique.
    username_key = fields.CharField(max_length=30, unique=True)
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=255)
    is_admin = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField(null=True)

    sessions: fields.ReverseRelation["UserSession"]

    class Meta:
        table = "users"
        ordering = ["username_key"]

    def __str__(self) -> str:
        return self.username

    @classmethod
    async def by_username(cls, username: str) -> "User | None":
        return await cls.get_or_none(username_key=usernames.key(username))

    @classmethod
    async def create_account(cls, username: str, email: str, password: str, *, is_admin: bool = False) -> "User":
        """A new user from already-checked values (app.forms.check_new_account)."""
        return await cls.create(
            username=username,
            username_key=usernames.key(username),
            email=email,
            password_hash=await hashing.hash_password(password),
            is_admin=is_admin,
        )
