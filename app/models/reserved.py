"""Names that belonged to someone: after a rename, or once an account is deleted, its old username
stays reserved (forever, until an administrator frees it), so that a newcomer cannot register as
"dan" and post under the name the old dan's messages, mentions and audit entries carry."""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from app.models import usernames
from app.models.user import User


class ReservedName(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=usernames.MAX_LENGTH)
    name_key = fields.CharField(max_length=usernames.MAX_LENGTH, unique=True)  # usernames.key(name)
    # Its two skeletons (usernames.skeletons): a name that looks like a reserved one is refused too.
    name_skeleton = fields.CharField(max_length=usernames.SKELETON_MAX_LENGTH, db_index=True)
    name_shown_skeleton = fields.CharField(max_length=usernames.SKELETON_MAX_LENGTH, db_index=True)
    # Whose it was (NULL once that account is deleted too): its owner may take it back.
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    reason = fields.CharField(max_length=16)  # "renamed" or "deleted"
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "reserved_names"
        ordering = ["name_key"]

    @classmethod
    async def reserve(cls, name: str, user: User | None, reason: str) -> None:
        """Keep this name from newcomers (inside the caller's transaction); already kept, it stays
        with its first owner and reason."""
        folded, shown = usernames.skeletons(name)
        await cls.get_or_create(name_key=usernames.key(name), defaults={
            "name": name, "name_skeleton": folded, "name_shown_skeleton": shown,
            "user_id": user.id if user else None, "reason": reason,
        })
