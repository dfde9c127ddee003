"""Link previews: for the first web address of a message, what the page says of itself (title,
description, site name, image), fetched by a job after the message is sent (app/links/) and
shown under it. The row is the job too: `state` "pending" until it is fetched (claimed by one
worker at a time: claimed_until), then "ready", "failed" (nothing to show) or "removed" (its
sender took it away: never fetched again). The image is copied into Huddle's own storage (a
Blob, thumbnailed like an upload), so readers never contact the third party.
"""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from app.models.chat import Message

PENDING, READY, FAILED, REMOVED = "pending", "ready", "failed", "removed"


class LinkPreview(Model):
    id = fields.BigIntField(primary_key=True)
    message: fields.OneToOneRelation[Message] = fields.OneToOneField(
        "models.Message", related_name=False, on_delete=fields.CASCADE
    )
    url = fields.CharField(max_length=2048)
    state = fields.CharField(max_length=8, default=PENDING)
    title = fields.CharField(max_length=300, null=True)
    description = fields.CharField(max_length=500, null=True)
    site = fields.CharField(max_length=100, null=True)
    image: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Blob", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    attempts = fields.IntField(default=0)
    due_at = fields.DatetimeField(null=True)
    claimed_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    fetched_at = fields.DatetimeField(null=True)

    class Meta:
        table = "link_previews"
        indexes = (("state", "due_at"),)


class SiteSetting(Model):
    """A setting administrators change on the site's admin page (say, link previews off), kept
    as text by its name; each change is in the audit log."""

    key = fields.CharField(max_length=64, primary_key=True)
    value = fields.CharField(max_length=200)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "site_settings"
