"""Making previews off the request path: one worker task per process, started and stopped with the
app, like Web Push's (app/notify/push_worker.py).

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
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from quart import current_app, has_app_context
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from app import clock, signals
from app.files import images
from app.models.files import FAILED, READY, Blob
from app.storage import key_of

if TYPE_CHECKING:
    from app.config import Settings

log = logging.getLogger("huddle.files")

POLL_SECONDS = 5.0
CLAIM = timedelta(seconds=60)
MAX_ATTEMPTS = 3
ROUND = 50  # jobs a round does before looking whether it should stop
STOP_SECONDS = 5
PREVIEWABLE = {*images.PILLOW_FORMATS, "application/pdf"}
TEMP_MAX_AGE = 3600  # seconds: far longer than any decode
SWEEP_SECONDS = 3600  # how often uploads never sent (a day old) are removed (app/files/service.py sweep)
DUE_SQL = "SELECT 1 FROM file_jobs WHERE due_at <= ? AND (claimed_until IS NULL OR claimed_until < ?) LIMIT 1"
CLAIM_SQL = (
    "UPDATE file_jobs SET claimed_until = ? WHERE id IN (SELECT id FROM file_jobs "
    "WHERE due_at <= ? AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY due_at, id LIMIT 1{lock}) "
    "RETURNING id, blob_id, attempts"
)
ENQUEUE_SQL = "INSERT INTO file_jobs (blob_id, attempts, due_at, created_at) VALUES (?, 0, ?, ?) ON CONFLICT DO NOTHING"
# Only while this worker's claim stands: a lapsed claim taken over by another worker is theirs.
FINISH_SQL = "DELETE FROM file_jobs WHERE id = ? AND claimed_until = ? RETURNING id"
RETRY_SQL = ("UPDATE file_jobs SET attempts = ?, due_at = ?, claimed_until = NULL WHERE id = ? AND claimed_until = ? "
             "RETURNING id")


def _sql(conn, query: str) -> str:
    if conn.capabilities.dialect != "postgres":
        return query
    first, *rest = query.split("?")
    return first + "".join(f"${number}{part}" for number, part in enumerate(rest, 1))


async def enqueue(conn, blob_id: int) -> None:
    """A preview job for the blob, unless it has one (call inside the upload's transaction, with
    its connection; then `runtime().files.wake()` after commit)."""
    now = clock.now()
    await conn.execute_query(_sql(conn, ENQUEUE_SQL), [blob_id, now, now])


def backoff(attempts: int) -> int:
    """Seconds before try number attempts + 1: 10, 20."""
    return 5 * 2 ** attempts


class FileWorker:
    def __init__(self, settings: Settings, storage: Any) -> None:
        self.settings = settings
        self.storage = storage
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._app = None

    def wake(self) -> None:
        """Something was enqueued in this process: work now rather than at the next look."""
        self._wake.set()

    async def start(self) -> None:
        self._app = current_app._get_current_object() if has_app_context() else None
        await asyncio.to_thread(self._sweep_temporary_files)
        self._task = asyncio.create_task(self._run(), name="file previews")

    def _sweep_temporary_files(self) -> None:
        """Copies left by a worker killed mid-decode (any process of this data folder), once old."""
        cutoff = clock.now().timestamp() - TEMP_MAX_AGE
        for path in (self.settings.data_dir / "tmp").glob("preview-*"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()

    async def stop(self) -> None:
        """Let the round end (a decode in its thread finishes anyway); cancel the task only if it
        hangs longer than STOP_SECONDS. A job cut short is claimed again when its claim lapses."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_SECONDS)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        self._stopping = False

    async def _run(self) -> None:
        swept: float | None = None  # at start, then every SWEEP_SECONDS
        while not self._stopping:
            self._wake.clear()
            if swept is None or asyncio.get_running_loop().time() - swept > SWEEP_SECONDS:
                swept = asyncio.get_running_loop().time()
                await self._sweep()
            try:
                done = await self.work_due()
            except Exception:  # noqa: BLE001 (the loop must outlive a database or storage outage)
                log.exception("file previews failed; trying again in %s s", POLL_SECONDS)
                done = 0
            if done >= ROUND or self._stopping:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)

    async def work_due(self) -> int:
        """Claim and do due jobs, one at a time, until none is due (or ROUND were done); how many.
        When a test awaits this, every due preview is made (or failed) and announced."""
        async with self._lock:
            done = 0
            while done < ROUND and not (self._stopping and done):
                claimed = await self._claim()
                if claimed is None:
                    break
                await self._work(*claimed)
                done += 1
            return done

    async def _claim(self) -> tuple[dict, Any] | None:
        conn = Tortoise.get_connection("default")
        now = clock.now()
        # A read first: an idle site's look every few seconds writes nothing (no SQLite write lock).
        if not (await conn.execute_query(_sql(conn, DUE_SQL), [now, now]))[1]:
            return None
        postgres = conn.capabilities.dialect == "postgres"
        until = now + CLAIM
        query = _sql(conn, CLAIM_SQL.format(lock=" FOR UPDATE SKIP LOCKED" if postgres else ""))
        rows = await conn.execute_query_dict(query, [until, now, now])
        return (rows[0], until) if rows else None

    async def _work(self, job: dict, claim: Any) -> None:
        blob = await Blob.get_or_none(id=job["blob_id"])
        if blob is None:  # deleted meanwhile (the job row goes with it; this is a race's leftover)
            await self._finish(job, claim, None)
            return
        try:
            if blob.type not in PREVIEWABLE:
                raise images.TooManyPixels(f"no preview is made of {blob.type}")  # as final as a bomb
            fields = await self._previews(blob)
        except images.TooManyPixels as error:
            log.warning("no preview for blob %s: %s", blob.id, error)
            fields = {"preview": FAILED}
        except Exception:  # noqa: BLE001 (any decoder or storage error: tried again, then failed)
            attempts = job["attempts"] + 1
            log.exception("preview of blob %s failed (try %s of %s)", blob.id, attempts, MAX_ATTEMPTS)
            if attempts < MAX_ATTEMPTS:
                conn = Tortoise.get_connection("default")
                due = clock.now() + timedelta(seconds=backoff(attempts))
                await conn.execute_query(_sql(conn, RETRY_SQL), [attempts, due, job["id"], claim])
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
            finished = await conn.execute_query_dict(_sql(conn, FINISH_SQL), [job["id"], claim])
            if not finished or fields is None:
                return  # another worker took the lapsed claim over: it finishes and announces
            await Blob.filter(id=job["blob_id"]).using_db(conn).update(**fields)
        await self._announce(job["blob_id"])

    async def _sweep(self) -> None:
        """Uploads never sent within a day, and blobs nobody uses: removed, in the app's context."""
        from app.files import service  # (it enqueues here: imported when first needed)

        try:
            if self._app is None or has_app_context():
                await service.sweep()
                return
            async with self._app.app_context():
                await service.sweep()
        except Exception:  # noqa: BLE001 (the loop must outlive a database or storage outage)
            log.exception("removing unsent uploads failed; trying again in %s s", SWEEP_SECONDS)

    async def _announce(self, blob_id: int) -> None:
        """preview_ready, inside the app's context (the loop runs outside any request)."""
        app = self._app or (current_app._get_current_object() if has_app_context() else None)
        if app is None or has_app_context():
            await signals.preview_ready.send(blob_id)
            return
        async with app.app_context():
            await signals.preview_ready.send(blob_id)
