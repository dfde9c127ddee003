"""Making link previews off the request path: one worker task per process, started and stopped with
the app, on the claimed-queue base (app/jobs.py) like the file previews (app/files/worker.py).

The rows of link_previews are the jobs: a pending row, due, not claimed (or its claim lapsed: a
worker killed mid-fetch loses nothing), is claimed by one worker. It fetches the page by the
fetcher's rules (app/links/fetch.py: public addresses only, unless HUDDLE_PREVIEW_ALLOWED_HOSTS
allows one), and the page's image, if any, into a temporary file: kept only if its bytes are PNG,
JPEG, GIF or WebP, stored as a Huddle blob and thumbnailed like an upload (app/files/service.py
keep_image), so readers never contact the third party. Then, in one transaction and only while
this worker's claim stands, the row becomes "ready" (or "failed": nothing shown) and the message
takes its conversation's next number, published as `message.edited` after commit. A failure is
tried again with backoff, at most jobs.MAX_ATTEMPTS times; a refusal (an address the fetcher may
not reach) fails at once, logged without anything the page said."""
from __future__ import annotations

import contextlib
import logging
import os
import secrets
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app import clock, jobs
from app.chat import events, previews
from app.files import service as files
from app.links import fetch
from app.models import Message
from app.models.links import FAILED, READY

IMAGE_MAX_BYTES = 5 * 1024 * 1024
# Only while this worker's claim stands and the row is still pending (its sender may have removed it).
FINISH_SQL = ("UPDATE link_previews SET state = ?, title = ?, description = ?, site = ?, image_id = ?, "
              "fetched_at = ?, due_at = NULL, claimed_until = NULL "
              "WHERE id = ? AND claimed_until = ? AND state = 'pending' RETURNING id")


class LinkWorker(jobs.ClaimedQueue):
    name = "link previews"
    table = "link_previews"
    columns = "id, message_id, url, attempts"
    where = "state = 'pending' AND "
    log = logging.getLogger("huddle.links")

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.allowed = fetch.allowed_hosts(settings.preview_allowed_hosts)

    async def work(self, job: dict, claim: Any) -> None:
        what = f"link preview {job['id']} (message {job['message_id']})"
        try:
            page = await fetch.fetch_page(job["url"], allowed=self.allowed)
        except fetch.Refused as refused:
            self.log.warning("%s refused: %s", what, refused)
            await self._finish(job, claim, FAILED)
            return
        except Exception:  # noqa: BLE001 (fetch.Unavailable, or any error: tried again, then failed)
            if not await self.retry(job, claim, what):
                await self._finish(job, claim, FAILED)
            return
        if not (page.title or page.description):
            await self._finish(job, claim, FAILED)  # nothing worth a card
            return
        blob = await self.in_app(lambda: self._image(page.image_url, what)) if page.image_url else None
        try:
            done = await self._finish(job, claim, READY, page, blob.id if blob else None)
        except IntegrityError:  # its image was released meanwhile (a race with a deletion): again
            done = False
            if not await self.retry(job, claim, what):
                await self._finish(job, claim, FAILED)
        if blob is not None and not done:
            await self.in_app(lambda: files.release([blob.id]))

    async def _image(self, url: str, what: str):
        """The page's image as a Huddle blob (thumbnail queued), or None: not an image we show, too
        big, refused, or failed (the preview is shown without it)."""
        folder = self.settings.data_dir / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"link-{os.getpid()}-{secrets.token_hex(8)}"
        try:
            await fetch.fetch_image(url, path, allowed=self.allowed, max_bytes=IMAGE_MAX_BYTES)
            return await files.keep_image(path)
        except fetch.Refused as refused:
            self.log.warning("%s: image refused: %s", what, refused)
        except Exception:  # noqa: BLE001 (the card is shown without it)
            self.log.warning("%s: no image", what, exc_info=True)
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
        return None

    async def _finish(self, job: dict, claim: Any, state: str, page: Any = None, image_id: int | None = None) -> bool:
        """The row ready or failed, and (ready) the message's next number, in one transaction,
        published after commit; False if the claim lapsed or the sender removed it meanwhile."""
        values = [state, page and page.title, page and page.description, page and page.site, image_id, clock.now(),
                  job["id"], claim]
        message, seq = None, None
        async with in_transaction() as conn:
            if not await conn.execute_query_dict(jobs.sql(conn, FINISH_SQL), values):
                return False
            if state == READY and (message := await Message.get_or_none(id=job["message_id"]).using_db(conn)):
                seq = await previews.next_version(conn, message)
        if seq is not None:
            message.version_seq = seq
            await self.in_app(lambda: events.message_changed(message, "message.edited"))
        return True
