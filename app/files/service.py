"""Files in messages: the one upload rule for every door (the composer, the no-script form, the
REST API), who may read a file, and removing what nobody uses any more.

An upload counts against the person's posting limit (one per file) and their quota (the sizes of
all their attachments, summed with their row locked, so parallel uploads cannot pass it together).
Its type is read from the bytes, an image's size from its header (a pixel bomb refused there), its
metadata stripped (GPS gone) before it is stored by content (app/storage: the same file twice is
stored once); images and PDFs get a preview job (app/files/worker.py). Until it is sent with a
message it is its owner's alone; after, it is read by whoever may read the conversation now (the
models' may_read), never more: administrators neither, and a guessed token finds nothing.

A stored file is removed once no row uses it (app/files/release.py); an upload that makes a blob's
row anew stores the file again if it is missing, so a removal racing an upload of the same bytes
never leaves a row without its file."""
from __future__ import annotations

import asyncio
import secrets
import unicodedata

from tortoise.transactions import in_transaction

from app import clock
from app.domain import Invalid, NotFound, TooLarge
from app.files import images, worker
from app.files.receive import FILE_FIELD, MAX_FILES, ReceivedFile, size_text, too_large
from app.files.release import release, sweep
from app.models import Attachment, Blob, Conversation, User
from app.models.chat import may_read, rule_of
from app.models.files import NONE, PENDING, READY
from app.models.user import _sql
from app.runtime import runtime
from app.storage import key_of_file
from app.web.urls import path_for

NAME_LENGTH = 255
PREVIEWED = {"application/pdf"}  # besides the images inspect() reads
UPLOADING_TOO_FAST = "You are sending very fast: wait {wait} s, then attach the file again."
EMPTY = "That file is empty."
DAMAGED = "That image could not be read: it may be damaged."
BOMB = "That image has too many pixels to show (at most 100 megapixels): make it smaller first."
QUOTA = "Your files take {used} of the {quota} you may keep: delete some messages with files first."
NOT_YOURS = "Some of those files are not yours to send, or were sent already: attach them again."
NONE_TO_SEND = "Choose a file to upload."
WEB_IMAGES = {"image/png", "image/jpeg", "image/gif", "image/webp"}  # what a link preview's image may be


def clean_name(name: str) -> str:
    """The name a person's file is shown and downloaded under: its last path part, without control
    or format characters (line breaks, bidi overrides), NFC, at most 255 characters keeping the
    extension. Never a path on disk: files are stored by their hash."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rpartition("/")[2])
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"})
    name = " ".join(name.split()).strip(". ") or "file"
    if len(name) > NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        extension = extension[:20] if dot and stem else ""
        name = name[:NAME_LENGTH - len(extension) - 1].rstrip() + ("." + extension if extension else "")
    return name


def _examine(path, media_type_of=images.sniff) -> tuple[str, images.ImageInfo | None, str, int]:
    """In a thread: the type from the bytes, an image's header, its metadata stripped (the file
    changes: its key is hashed again). Invalid for a bomb or an image that does not parse."""
    media_type = media_type_of(path)
    try:
        info = images.inspect(path, media_type)
        if info is not None:
            images.strip_metadata(path, media_type)
    except images.TooManyPixels:
        raise Invalid({FILE_FIELD: BOMB}) from None
    except ValueError:
        raise Invalid({FILE_FIELD: DAMAGED}) from None
    return media_type, info, key_of_file(path), path.stat().st_size


async def used_bytes(conn, user_id: int) -> int:
    rows = await conn.execute_query_dict(_sql(conn, (
        "SELECT COALESCE(SUM(b.size), 0) AS used FROM attachments a JOIN blobs b ON b.id = a.blob_id "
        "WHERE a.owner_id = ?")), [user_id])
    return int(rows[0]["used"])


async def upload(actor: User, file: ReceivedFile) -> Attachment:
    """One received file becomes the actor's unsent attachment (its temp file stays the caller's)."""
    settings = runtime().settings
    if file.size == 0:
        raise Invalid({FILE_FIELD: EMPTY})
    if file.size > settings.upload_max_bytes:
        raise too_large(settings.upload_max_bytes)
    # Reserved before the expensive part, like a post (every door's upload comes through here).
    await runtime().limiters.post_user.spend(str(actor.id), UPLOADING_TOO_FAST)
    media_type, info, key, size = await asyncio.to_thread(_examine, file.path)
    storage = runtime().storage
    await storage.put_file(key, file.path, media_type)  # before any lock: the slow part
    try:
        async with in_transaction() as conn:
            await User.filter(id=actor.id).select_for_update().using_db(conn).first()
            used = await used_bytes(conn, actor.id)
            if used + size > settings.upload_quota_bytes:
                raise TooLarge(QUOTA.format(used=size_text(used), quota=size_text(settings.upload_quota_bytes)))
            blob, made = await _stored(conn, key, file.path, size, media_type, info)
            attachment = await Attachment.create(token=secrets.token_urlsafe(24), owner_id=actor.id, blob=blob,
                                                 name=clean_name(file.name), using_db=conn)
    except BaseException:
        if not await Blob.exists(key=key):
            await storage.delete(key)
        raise
    _wake(blob, made)
    attachment.blob = blob
    return attachment


async def keep_image(path) -> Blob | None:
    """An image the site fetched itself (a link preview's), kept as an upload is: its type from the
    bytes (PNG, JPEG, GIF or WebP only: None otherwise, or when it does not parse), its metadata
    stripped, stored by content, its thumbnail queued. Nobody owns it: the row showing it refers
    to the blob (link_previews.image), and release() keeps what such a row uses."""
    try:
        media_type, info, key, size = await asyncio.to_thread(_examine, path)
    except Invalid:
        return None
    if media_type not in WEB_IMAGES or info is None:
        return None
    storage = runtime().storage
    await storage.put_file(key, path, media_type)
    try:
        async with in_transaction() as conn:
            blob, made = await _stored(conn, key, path, size, media_type, info)
    except BaseException:
        if not await Blob.exists(key=key):
            await storage.delete(key)
        raise
    _wake(blob, made)
    return blob


async def _stored(conn, key: str, path, size: int, media_type: str, info) -> tuple[Blob, bool]:
    """In the caller's transaction: the blob of a file stored under key (made if new, True), its
    file stored again if a release removed it meanwhile, its preview job queued."""
    blob, made = await _blob(conn, key, size, media_type, info)
    if made and not await runtime().storage.exists(key):
        await runtime().storage.put_file(key, path, media_type)  # removed by a release meanwhile
    if made and blob.preview == PENDING:
        await worker.enqueue(conn, blob.id)
    return blob, made


def _wake(blob: Blob, made: bool) -> None:
    """After commit: a new blob's preview is made now rather than at the worker's next look."""
    if made and blob.preview == PENDING and runtime().files is not None:
        runtime().files.wake()


async def _blob(conn, key: str, size: int, media_type: str, info) -> tuple[Blob, bool]:
    """The blob stored under key, made if new (True), with its row locked until commit. A release
    may remove the row between the insert that found it and the lock: then it is made anew."""
    previewed = info is not None or media_type in PREVIEWED
    while True:
        made = await conn.execute_query_dict(_sql(conn, (
            "INSERT INTO blobs (key, size, type, width, height, animated, preview, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id")),
            [key, size, media_type, info.width if info else None, info.height if info else None,
             bool(info and info.animated), PENDING if previewed else NONE, clock.now()])
        blob = await Blob.filter(key=key).select_for_update().using_db(conn).first()
        if blob is not None:
            return blob, bool(made)


async def remove_unsent(actor: User, attachment_id: int) -> None:
    """The owner takes back a file not sent yet (anyone else: not found)."""
    attachment = await Attachment.get_or_none(id=attachment_id, owner_id=actor.id, message_id__isnull=True)
    if attachment is None:
        raise NotFound("That file is not waiting to be sent.")
    await attachment.delete()
    await release([attachment.blob_id])


def check_ids(raw: list) -> list[int]:
    """Attachment ids as a door sent them: distinct, at most MAX_FILES, in the order given."""
    ids: list[int] = []
    for each in raw:
        text = str(each).strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 10) or isinstance(each, bool):
            raise Invalid({"attachments": "Attachments are named by their ids (numbers)."})
        if int(text) not in ids:
            ids.append(int(text))
    if len(ids) > MAX_FILES:
        raise Invalid({"attachments": f"Attach at most {MAX_FILES} files to one message."})
    return ids


async def attach(conn, actor: User, message_id: int, ids: list[int]) -> None:
    """In the post's transaction: the actor's unsent files become the message's, in order; all of
    them or Invalid (someone else's, already sent, removed)."""
    for position, attachment_id in enumerate(ids):
        done = await Attachment.filter(id=attachment_id, owner_id=actor.id, message_id__isnull=True).using_db(
            conn).update(message_id=message_id, position=position)
        if done != 1:
            raise Invalid({"attachments": NOT_YOURS})


async def readable(actor: User, token: str) -> Attachment:
    """The attachment with this token, if the actor may read it now: the message's conversation by
    may_read, or their own upload not sent yet. NotFound for everything else."""
    if not (isinstance(token, str) and 20 <= len(token) <= 40 and token.isascii()):
        raise NotFound("There is no such file.")
    attachment = await Attachment.get_or_none(token=token).select_related("blob", "message")
    if attachment is None:
        raise NotFound("There is no such file.")
    if attachment.message_id is None:
        if attachment.owner_id == actor.id:
            return attachment
        raise NotFound("There is no such file.")
    if attachment.message.deleted_at is None:
        # A thread's files: by its parent's rule (rule_of: the parent and the actor's place there).
        conversation, member = await rule_of(await Conversation.get(id=attachment.message.conversation_id), actor.id)
        if may_read(conversation, member):
            return attachment
    raise NotFound("There is no such file.")


async def attachment_lists(messages) -> None:
    """Give each message its files in order (`attachment_list`: Attachments with their blobs), in
    one query for all of them, as chat's events load mentions."""
    by_id = {m.id: m for m in messages}
    for message in by_id.values():
        message.attachment_list = []
    if not by_id:
        return
    for attachment in await Attachment.filter(message_id__in=list(by_id)).select_related("blob").order_by(
            "message_id", "position"):
        by_id[attachment.message_id].attachment_list.append(attachment)


def attachment_data(attachment: Attachment) -> dict:
    """A file as programs get it (in a message, an event, the upload's answer): its URLs are the
    API's paths (a bearer token reads them; pages link to app/files/routes.py's), each checked
    against who may read it when followed; `thumbnail_url` is None until its preview is ready,
    width and height None for what is not an image."""
    blob = attachment.blob
    ready = blob.preview == READY and blob.thumb_key is not None
    return {
        "id": attachment.id, "name": attachment.name, "type": blob.type, "size": blob.size,
        "width": blob.width, "height": blob.height,
        "url": path_for("api.file", token=attachment.token),
        "thumbnail_url": path_for("api.file_preview", token=attachment.token) if ready else None,
    }


__all__ = ["attach", "attachment_data", "attachment_lists", "check_ids", "clean_name", "keep_image", "readable",
           "release", "remove_unsent", "sweep", "upload"]
