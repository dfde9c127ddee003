"""Files under concurrency, on SQLite and on PostgreSQL: parallel uploads never pass the quota
together (the person's row is locked while their files are summed), the same bytes uploaded at
once are one blob, and a message deleted while its file is uploaded again never leaves a blob
without its stored file. Each database also runs the whole path once: upload, send, the preview's
new number, deletion and the sweep (its SQL in that dialect).

On PostgreSQL it runs in a child process (`python -m tests.test_files_races URL DIR`): Tortoise
cannot use two dialects in one process."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from app import clock
from app.chat import previews
from app.chat import service as chat
from app.domain import TooLarge
from app.files import service as files
from app.files.receive import ReceivedFile
from app.models import Attachment, Blob, Message, User
from app.runtime import runtime
from tests.helpers import files as made
from tests.helpers.chat import welcomed
from tests.helpers.postgres import child_main, in_child, pg_site

QUOTA = 600 * 1024


def received(folder: Path, name: str, data: bytes) -> ReceivedFile:
    path = folder / name
    path.write_bytes(data)
    return ReceivedFile(path, name, len(data))


async def race(folder: Path) -> dict:
    runtime().settings.upload_quota_bytes = QUOTA
    runtime().limiters.post_user.limit = 1_000
    ada = await User.create_account("ada", "ada@example.com", "x" * 12)
    ben = await User.create_account("ben", "ben@example.com", "x" * 12)
    general = await welcomed(ada, ben)
    chunks = [bytes([n]) * (200 * 1024) for n in range(6)]
    quota = await asyncio.gather(*(files.upload(ada, received(folder, f"q{n}", chunks[n])) for n in range(6)),
                                 return_exceptions=True)
    photo = made.png(folder / "photo.png").read_bytes()
    same = await asyncio.gather(*(files.upload(ben, received(folder, f"s{n}", photo)) for n in range(4)))
    # The only message with a picture deleted while ben uploads the very same bytes again.
    other = made.png(folder / "other.png", (50, 40)).read_bytes()
    first = await files.upload(ben, received(folder, "o", other))
    message = await chat.post(ben, general, "", attachments=[first.id])
    deleted, again = await asyncio.gather(chat.delete(ben, message), files.upload(ben, received(folder, "r", other)))
    blob = await Blob.get(id=again.blob_id)
    # The whole path once more, in this dialect: a preview made, its message renumbered, the sweep.
    sent = await chat.post(ben, general, "with a photo", attachments=[same[1].id])
    await Blob.filter(id=same[1].blob_id).update(preview="ready")
    await previews.preview_ready(same[1].blob_id)
    renumbered = await Message.get(id=sent.id)
    await Attachment.filter(id__in=[same[2].id, same[3].id]).update(created_at=clock.now() - timedelta(days=2))
    swept = await files.sweep()
    return {
        "quota": sorted("refused" if isinstance(r, TooLarge) else type(r).__name__ for r in quota),
        "ada_files": await Attachment.filter(owner_id=ada.id).count(),
        "photo_blobs": await Blob.filter(id=same[0].blob_id).count() + len({a.blob_id for a in same}) - 1,
        "stored": await runtime().storage.exists(blob.key),
        "renumbered": renumbered.version_seq > sent.seq,
        "swept": swept,
        "left": sorted(a.id for a in await Attachment.filter(owner_id=ben.id)),
        "expected_left": sorted([again.id, same[0].id, same[1].id]),
        "deleted": deleted.deleted_at is not None,
    }


def check(result: dict) -> None:
    assert result["quota"] == ["Attachment"] * 3 + ["refused"] * 3, result  # 3 x 200 KB fit in 600 KB
    assert result["ada_files"] == 3
    assert result["photo_blobs"] == 1 and result["stored"]
    assert result["renumbered"] and result["deleted"]
    assert result["swept"] == 2 and result["left"] == result["expected_left"]


async def test_uploads_race_safely_on_sqlite(app, tmp_path):
    async with app.app_context():
        check(await race(tmp_path))


def test_uploads_race_safely_on_postgresql(pg_database, tmp_path):
    check(in_child("tests.test_files_races", pg_database, str(tmp_path)))


async def _on_postgresql(url: str, data_dir: str) -> dict:
    async with pg_site(url, data_dir) as app:
        await app.extensions["huddle"].files.stop()  # previews are this test's business
        return await race(Path(data_dir))


if __name__ == "__main__":
    child_main(_on_postgresql)
