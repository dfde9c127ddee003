"""The audit log: who did what to whom, stored as an action and its parameters.

An entry holds facts, not words: `action` ("room.member_added") and `params` ({"room": "leads"}).
The sentence a reader sees is made when the log is shown (app/admin/audit_log.py), so the
wording can change without touching stored rows. `record` is called inside the transaction of
the change it records: the entry and the change commit or roll back together."""
from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from app.models.actor import Actor, SystemActor, check_actor
from app.models.user import User


class AuditEvent(Model):
    """Who did what to whom: names are copied so entries outlive the accounts they mention. An
    empty actor_name is the command line (SYSTEM)."""

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
    # The action's parameters, as JSON: {"room": "leads"}, {"changes": [["email", old, new]]}.
    params: dict[str, Any] = fields.JSONField(default=dict)
    # Free text, only in entries written before params existed that migration 6 could not turn
    # into params; shown as written after the sentence. New entries leave it empty.
    detail = fields.CharField(max_length=500, default="")

    class Meta:
        table = "audit_events"
        ordering = ["-id"]

    @classmethod
    async def record(cls, actor: Actor, action: str, target: User | None = None, **params: Any) -> AuditEvent:
        """Write one entry, in the caller's transaction: call it inside `in_transaction()` with
        the change it records. `params` must be JSON values (names, counts, lists)."""
        actor = check_actor(actor)
        user = None if isinstance(actor, SystemActor) else actor
        return await cls.create(
            actor=user,
            actor_name=user.username if user else "",
            action=action,
            target=target,
            target_name=target.username if target else "",
            params=params,
        )
