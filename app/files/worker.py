"""Making previews off the request path: one worker task per process, started and stopped with the
app, on the claimed-queue base (app/jobs.py) like the link previews (app/links/worker.py).

The upload enqueues a row of file_jobs for an image or a PDF (`enqueue`, in its transaction) and
wakes this process's worker. Rows are claimed one at a time in one statement (PostgreSQL:
`FOR UPDATE SKIP LOCKED`; SQLite has one writer), so several workers make each preview once; a
claim lapses after a minute, so a worker killed mid-decode loses nothing (the job is done again).

A job: the original is copied from storage to a temporary file, decoded in a thread (the event
loop keeps serving) by app/files/images.py with its allow-list and pixel limit, and its thumbnail
(and, for HEIC and the like, its large version) stored under their own keys. Then, in one
transaction, the job is deleted only if this worker still holds it, and the blob says where its
previews are; whoever finished it announces it (signals.preview_ready: chat renumbers the messages
showing the file, so pages swap the preview in live or when they catch up). A failure is tried again
with backoff, at most MAX_ATTEMPTS times; then, or at once for an image too large to decode, the
blob's preview is "failed" (the message keeps its link) and that is announced too."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from app import clock, jobs, signals
from app.files import images
from app.jobs import MAX_ATTEMPTS, backoff
from app.models.files import FAILED, READY, Blob
from app.storage import key_of

if TYPE_CHECKING:
    from app.config import Settings

PREVIEWABLE = {*images.PILLOW_FORMATS, "application/pdf"}
TEMP_MAX_AGE = 3600  # seconds: far longer than any decode
SWEEP_SECONDS = 3600  # how often uploads never sent (a day old) are removed (app/files/service.py sweep)
ENQUEUE_SQL = "INSERT INTO file_jobs (blob_id, attempts, due_at, created_at) VALUES (?, 0, ?, ?) ON CONFLICT DO NOTHING"
# Only while this worker's claim stands: a lapsed claim taken over by another worker is theirs.
FINISH_SQL = "DELETE FROM file_jobs WHERE id = ? AND claimed_until = ? RETURNING id"

__all__ = ["MAX_ATTEMPTS", "FileWorker", "backoff", "enqueue"]


async def enqueue(conn, blob_id: int) -> None:
    """A preview job for the blob, unless it has one (call inside the upload's transaction, with
    its connection; then `runtime().files.wake()` after commit)."""
    now = clock.now()
    await conn.execute_query(jobs.sql(conn, ENQUEUE_SQL), [blob_id, now, now])


class FileWorker(jobs.ClaimedQueue):
    name = "file previews"
    table = "file_jobs"
    columns = "id, blob_id, attempts"
    log = logging.getLogger("huddle.files")

    def __init__(self, settings: Settings, storage: Any) -> None:
        super().__init__(settings)
        self.storage = storage
        self._swept: float | None = None  # at start, then every SWEEP_SECONDS

    async def prepare(self) -> None:
        await asyncio.to_thread(self._sweep_temporary_files)

    def _sweep_temporary_files(self) -> None:
        """Copies left by a worker killed mid-decode (any process of this data folder), once old."""
        cutoff = clock.now().timestamp() - TEMP_MAX_AGE
        for path in (self.settings.data_dir / "tmp").glob("preview-*"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()

    async def between_rounds(self) -> None:
        now = asyncio.get_running_loop().time()
        if self._swept is None or now - self._swept > SWEEP_SECONDS:
            self._swept = now
            await self._sweep()

    async def work(self, job: dict, claim: Any) -> None:
        blob = await Blob.get_or_none(id=job["blob_id"])
        if blob is None:  # deleted meanwhile (the job row goes with it; this is a race's leftover)
            await self._finish(job, claim, None)
            return
        try:
            if blob.type not in PREVIEWABLE:
                raise images.TooManyPixels(f"no preview is made of {blob.type}")  # as final as a bomb
            fields = await self._previews(blob)
        except images.TooManyPixels as error:
            self.log.warning("no preview for blob %s: %s", blob.id, error)
            fields = {"preview": FAILED}
        except Exception:  # noqa: BLE001 (any decoder or storage error: tried again, then failed)
            if await self.retry(job, claim, f"preview of blob {blob.id}"):
                return
            fields = {"preview": FAILED}
        await self._finish(job, claim, fields)

    async def _previews(self, blob: Blob) -> dict:
        folder = self.settings.data_dir / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"preview-{os.getpid()}-{secrets.token_hex(8)}"
        try:
            await self.storage.copy_to_path(blob.key, path)
            thumb, large = await asyncio.to_thread(images.previews, path, blob.type)
        finally:
            path.unlink(missing_ok=True)
        fields = {"preview": READY, "thumb_key": key_of(thumb.data), "thumb_width": thumb.width,
                  "thumb_height": thumb.height, "thumb_size": len(thumb.data)}
        await self.storage.put_bytes(fields["thumb_key"], thumb.data, "image/webp")
        if large is not None:
            fields["large_key"] = key_of(large.data)
            await self.storage.put_bytes(fields["large_key"], large.data, "image/webp")
        return fields

    async def _finish(self, job: dict, claim: Any, fields: dict | None) -> None:
        async with in_transaction() as conn:
            finished = await conn.execute_query_dict(jobs.sql(conn, FINISH_SQL), [job["id"], claim])
            if not finished or fields is None:
                return  # another worker took the lapsed claim over: it finishes and announces
            await Blob.filter(id=job["blob_id"]).using_db(conn).update(**fields)
        await self._announce(job["blob_id"])

    async def _sweep(self) -> None:
        """Uploads never sent within a day, and blobs nobody uses: removed, in the app's context."""
        from app.files import service  # (it enqueues here: imported when first needed)

        try:
            await self.in_app(service.sweep)
        except Exception:  # noqa: BLE001 (the loop must outlive a database or storage outage)
            self.log.exception("removing unsent uploads failed; trying again in %s s", SWEEP_SECONDS)

    async def _announce(self, blob_id: int) -> None:
        """preview_ready, inside the app's context (the loop runs outside any request)."""
        await self.in_app(lambda: signals.preview_ready.send(blob_id))
