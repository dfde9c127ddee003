"""The audit log: who did what to whom."""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from app.models.user import User


class AuditEvent(Model):
    """Who did what to whom: names are copied so entries outlive the accounts they mention."""

    id = fields.IntField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    actor_name = fields.CharField(max_length=30, default="")
    action = fields.CharField(max_length=40)
    target: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    target_name = fields.CharField(max_length=30, default="")
    detail = fields.CharField(max_length=500, default="")

    class Meta:
        table = "audit_events"
        ordering = ["-id"]

    LABELS = {
        "user.created": "created the account of",
        "user.registered": "registered as",
        "user.edited": "edited",
        "admin.granted": "made an administrator:",
        "admin.removed": "removed administrator rights from",
        "password.set_by_admin": "set a new password for",
        "user.deleted": "deleted",
        "sessions.revoked": "ended sessions of",
        "room.created": "created a room:",
        "room.member_added": "added to a room:",
        "room.member_removed": "removed from a room:",
        "message.deleted": "deleted",
        "password.changed": "changed the password of",
        "password.reset": "reset the password of",
        "feedback.edited": "edited feedback by",
        "feedback.deleted": "deleted feedback by",
        "invitation.created": "created an invitation link",
        "invitation.revoked": "revoked an invitation link",
    }

    @classmethod
    async def record(cls, actor: User | None, action: str, target: User | None, detail: str = "") -> AuditEvent:
        return await cls.create(
            actor=actor,
            actor_name=actor.username if actor else "",
            action=action,
            target=target,
            target_name=target.username if target else "",
            detail=detail[:500],
        )

    @property
    def label(self) -> str:
        return self.LABELS.get(self.action, self.action)
