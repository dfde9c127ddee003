"""Mentions, who is notified of what, and Web Push: the rows behind app/notify/.

- Mention: one row per person a message mentions (`@name`, or `@everyone` for each member),
  written in the transaction that posts or edits the message, so /mentions, the header's badge
  and the sidebar's counts read them, never the text. `seq` is the message's own number: a
  mention is unread while it is above the member's last_read_seq (like unread messages).
- PushSubscription: a browser's PushManager subscription, tied to the signed-in session that
  made it (deleting the session deletes it: no push after logout, revocation or expiry).
- PushDelivery: the queue of pushes to send, in the database so a restart loses none; a worker
  claims a row (claimed_until) before sending, so two workers never send one push twice.
- PushCount: how each delivery ended (sent, gone, throttled, failed, ...), for the admin page.
"""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from app.models.chat import Conversation, Message
from app.models.session import UserSession
from app.models.user import User

# A member's notification level for a conversation (Membership.notify; NULL is the default:
# rooms MENTIONS, direct conversations and threads (their followers) ALL).
ALL, MENTIONS, NOTHING = "all", "mentions", "nothing"
LEVELS = (ALL, MENTIONS, NOTHING)


def effective_level(kind: str, notify: str | None) -> str:
    """A member's level for a conversation of this kind: what they chose, else the default
    (direct conversations: every message; rooms: mentions only)."""
    if notify in LEVELS:
        return notify
    return ALL if kind in ("direct", "thread") else MENTIONS


class Mention(Model):
    id = fields.BigIntField(primary_key=True)
    message: fields.ForeignKeyRelation[Message] = fields.ForeignKeyField(
        "models.Message", related_name="mentions", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "models.Conversation", related_name=False, on_delete=fields.CASCADE
    )
    seq = fields.BigIntField()  # the message's number in its conversation
    everyone = fields.BooleanField(default=False)  # by @everyone, not by name
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "mentions"
        unique_together = (("message", "user"),)
        indexes = (("user", "id"), ("user", "conversation", "seq"))


class PushSubscription(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE, db_index=True
    )
    session: fields.ForeignKeyRelation[UserSession] = fields.ForeignKeyField(
        "models.UserSession", related_name=False, on_delete=fields.CASCADE, db_index=True
    )
    endpoint = fields.TextField()
    endpoint_hash = fields.CharField(max_length=64, unique=True)  # sha256 of endpoint
    p256dh = fields.CharField(max_length=128)
    auth = fields.CharField(max_length=64)
    user_agent = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "push_subscriptions"


class PushDelivery(Model):
    id = fields.BigIntField(primary_key=True)
    subscription: fields.ForeignKeyRelation[PushSubscription] = fields.ForeignKeyField(
        "models.PushSubscription", related_name=False, on_delete=fields.CASCADE, db_index=True
    )
    payload = fields.TextField()                 # JSON, at most 3 KB once encrypted
    topic = fields.CharField(max_length=32)      # the push service's Topic: one per conversation
    urgency = fields.CharField(max_length=8)     # high (directs, mentions) or normal
    ttl = fields.IntField()                      # seconds
    attempts = fields.IntField(default=0)
    due_at = fields.DatetimeField(db_index=True)  # not before (retries, Retry-After)
    claimed_until = fields.DatetimeField(null=True)  # a worker is sending it until then
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "push_deliveries"


class PushCount(Model):
    outcome = fields.CharField(max_length=16, primary_key=True)
    count = fields.BigIntField(default=0)

    class Meta:
        table = "push_counts"
