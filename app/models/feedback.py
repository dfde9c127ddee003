"""Feedback from a user to the people who run the site."""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from app.models.user import User


class Feedback(Model):
    """A note from a user to the people who run the site."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=100)
    content = fields.TextField()
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="feedback", on_delete=fields.CASCADE, db_index=True
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # Set when an administrator edited someone else's feedback: the item says so, by name.
    edited_by_name = fields.CharField(max_length=30, null=True)

    class Meta:
        table = "feedback"
        ordering = ["-id"]

    TITLE_MAX = 100
    CONTENT_MAX = 10_000
