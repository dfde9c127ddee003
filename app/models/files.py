"""Files: what was uploaded (blobs, stored once by content), where each is used (attachments of a
message, a person's picture) and the jobs that make their previews.

- Blob: one stored file, named in storage by the SHA-256 of its bytes (`key`): the same file
  uploaded twice is stored once. Its type is read from the bytes; an image's width and height
  from its header at upload. Its preview (`thumb_key`: a webp, no metadata) and, for a format
  browsers cannot show (HEIC), its large version (`large_key`) are blobs' keys in storage too,
  made by a job (FileJob); `preview` says where that stands: "none" (not an image), "pending",
  "ready" or "failed".
- Attachment: one file as a person uploaded it (its name), owned by them until it is sent with a
  message (`message`), in the message's order (`position`). Its URL carries `token` (random): an
  id alone finds nothing, and every request is checked against who may read the message now.
  Never sent after a day: removed (app/files/service.py's sweep).
- FileJob: a blob whose preview is to be made; claimed by one worker (claimed_until), so several
  workers make each preview once and a restart loses none (the claim lapses).
"""
from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from app.models.chat import Message
from app.models.user import User

NONE, PENDING, READY, FAILED = "none", "pending", "ready", "failed"


class Blob(Model):
    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=64, unique=True)  # sha256 hex of the stored bytes
    size = fields.BigIntField()
    type = fields.CharField(max_length=100)  # the media type read from the bytes
    width = fields.IntField(null=True)
    height = fields.IntField(null=True)
    animated = fields.BooleanField(default=False)
    preview = fields.CharField(max_length=8, default=NONE)
    thumb_key = fields.CharField(max_length=64, null=True)
    thumb_width = fields.IntField(null=True)
    thumb_height = fields.IntField(null=True)
    thumb_size = fields.IntField(null=True)
    large_key = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "blobs"

    @property
    def is_image(self) -> bool:
        return self.width is not None


class Attachment(Model):
    id = fields.BigIntField(primary_key=True)
    token = fields.CharField(max_length=32, unique=True)
    owner: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    blob: fields.ForeignKeyRelation[Blob] = fields.ForeignKeyField(
        "models.Blob", related_name="attachments", on_delete=fields.RESTRICT
    )
    message: fields.ForeignKeyNullableRelation[Message] = fields.ForeignKeyField(
        "models.Message", related_name="attachments", null=True, on_delete=fields.CASCADE
    )
    position = fields.SmallIntField(default=0)
    name = fields.CharField(max_length=255)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "attachments"
        indexes = (("message", "position"), ("owner", "created_at"))


class FileJob(Model):
    id = fields.BigIntField(primary_key=True)
    blob: fields.ForeignKeyRelation[Blob] = fields.ForeignKeyField(
        "models.Blob", related_name=False, on_delete=fields.CASCADE
    )
    attempts = fields.IntField(default=0)
    due_at = fields.DatetimeField(db_index=True)
    claimed_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "file_jobs"
        unique_together = (("blob",),)
