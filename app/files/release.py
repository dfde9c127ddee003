"""Removing what nobody uses any more: a blob (and its stored files) once no attachment nor link
preview uses it, and uploads never sent within a day (the preview worker's sweep, hourly).

The release takes the blob's row lock and deletes the file in that transaction; an upload that
makes a blob's row anew stores the file again if it is missing (app/files/service.py), so a
removal racing an upload of the same bytes never leaves a row without its file."""
from __future__ import annotations

from datetime import timedelta

from tortoise.transactions import in_transaction

from app import clock
from app.models import Attachment, Blob, reads
from app.models.links import LinkPreview
from app.models.user import _sql
from app.runtime import runtime

UNSENT_FOR = timedelta(days=1)  # an upload never sent is removed after this


async def release(blob_ids) -> None:
    """Remove the blobs no attachment nor link preview uses any more, and their stored files (the
    original, the thumbnail, the large version) unless another blob or a person's picture uses the
    same key."""
    storage = runtime().storage
    for blob_id in sorted(set(blob_ids)):
        async with in_transaction() as conn:
            blob = await Blob.filter(id=blob_id).select_for_update().using_db(conn).first()
            if blob is None or await Attachment.filter(blob_id=blob_id).using_db(conn).exists() \
                    or await LinkPreview.filter(image_id=blob_id).using_db(conn).exists():
                continue
            await blob.delete(using_db=conn)
            for key in {blob.key, blob.thumb_key, blob.large_key} - {None}:
                if not await _key_used(conn, key):
                    await storage.delete(key)


async def _key_used(conn, key: str) -> bool:
    rows = await conn.execute_query_dict(_sql(conn, (
        "SELECT 1 AS used FROM blobs WHERE key = ? OR thumb_key = ? OR large_key = ? "
        "UNION ALL SELECT 1 FROM users WHERE avatar = ? OR avatar_small = ?")), [key] * 5)
    return bool(rows)


async def sweep() -> int:
    """Remove uploads never sent within UNSENT_FOR, and blobs nobody uses (left by a failure);
    how many attachments went."""
    before = clock.now() - UNSENT_FOR
    stale = await Attachment.filter(message_id__isnull=True, created_at__lt=before).values_list("id", "blob_id")
    if stale:
        await Attachment.filter(id__in=[row[0] for row in stale]).delete()
    orphans = await reads.rows("SELECT b.id AS id FROM blobs b WHERE b.created_at < ? AND NOT EXISTS "
                               "(SELECT 1 FROM attachments a WHERE a.blob_id = b.id) "
                               "AND NOT EXISTS (SELECT 1 FROM link_previews l WHERE l.image_id = b.id)", [before])
    await release([row[1] for row in stale] + [row["id"] for row in orphans])
    return len(stale)
