"""The preview worker (app/files/worker.py) on real files in real storage: a photo's thumbnail is
stored under its own key without the photo's GPS and announced; HEIC gets a large version, a GIF
stays animated; a file that will not decode is tried again, then failed and announced; a bomb fails
at once; a worker that dies holding a job loses nothing (its claim lapses, another does it, the
dead one's late finish changes nothing); two workers on one PostgreSQL database do each job once."""
from __future__ import annotations

import asyncio
import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from tortoise import Tortoise

from app import clock, create_app, signals
from app.files import images, worker
from app.models.files import FAILED, PENDING, READY, Blob, FileJob
from app.runtime import Runtime
from app.storage import key_of_file
from tests.helpers import files
from tests.helpers.jobs import count_claims
from tests.helpers.postgres import child_main, in_child, pg_site


@pytest.fixture
async def app(app):
    """The tests work the queue by hand (work_due), with no loop running beside them."""
    await Runtime.of(app).files.stop()
    return app


@pytest.fixture
def announced():
    """Every blob id preview_ready is sent with, in order."""
    sent: list[int] = []

    async def receiver(blob_id: int) -> None:
        sent.append(blob_id)

    signals.preview_ready.connect(receiver)
    yield sent
    signals.preview_ready.receivers.remove(receiver)


def examined(path: Path, media_type: str) -> dict:
    """What the upload reads of a file: its key, size and (from the header) its dimensions."""
    try:
        info = images.inspect(path, media_type)
    except images.TooManyPixels:
        info = None
    return {"key": key_of_file(path), "size": path.stat().st_size, "type": media_type,
            "width": info and info.width, "height": info and info.height, "animated": bool(info and info.animated)}


async def stored(app, path: Path, media_type: str | None = None) -> Blob:
    """The file as the upload leaves it: stored by its key, a blob pending, a job queued."""
    found = examined(path, media_type or images.sniff(path))
    await Runtime.of(app).storage.put_file(found["key"], path, found["type"])
    blob = await Blob.create(preview=PENDING, **found)
    await worker.enqueue(Tortoise.get_connection("default"), blob.id)
    return blob


async def work(app) -> int:
    return await Runtime.of(app).files.work_due()


async def stored_bytes(app, key: str) -> bytes:
    return await Runtime.of(app).storage.read_bytes(key)


def later(monkeypatch, seconds: float) -> None:
    moment = clock.now() + timedelta(seconds=seconds)
    monkeypatch.setattr(clock, "now", lambda: moment)


async def test_a_photos_thumbnail_is_stored_without_its_gps_and_announced(app, tmp_path, announced):
    blob = await stored(app, files.jpeg(tmp_path / "a.jpg", (1600, 1200), orientation=6))
    assert await work(app) == 1
    await blob.refresh_from_db()
    assert blob.preview == READY and blob.large_key is None
    assert (blob.thumb_width, blob.thumb_height) == (420, 560)
    data = await stored_bytes(app, blob.thumb_key)
    assert len(data) == blob.thumb_size <= 150 * 1024 and b"Spyphone" not in data and b"GPS" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "WEBP" and image.size == (420, 560) and not image.getexif()
    assert announced == [blob.id]
    assert await FileJob.all().count() == 0
    assert await work(app) == 0  # nothing left: nothing announced again
    assert announced == [blob.id]


async def test_heic_gets_a_large_version_and_a_gif_stays_animated(app, tmp_path, announced):
    photo = await stored(app, files.heic(tmp_path / "a.heic", (1200, 800)))
    party = await stored(app, files.animated_gif(tmp_path / "b.gif", frames=6))
    paper = await stored(app, files.pdf(tmp_path / "c.pdf"))
    assert await work(app) == 3
    await photo.refresh_from_db()
    await party.refresh_from_db()
    await paper.refresh_from_db()
    assert photo.preview == party.preview == paper.preview == READY
    with Image.open(io.BytesIO(await stored_bytes(app, photo.large_key))) as large:
        assert large.format == "WEBP" and large.size == (1200, 800)
    with Image.open(io.BytesIO(await stored_bytes(app, party.thumb_key))) as thumb:
        assert thumb.n_frames == 6
    assert paper.thumb_height == 560 and paper.large_key is None
    assert sorted(announced) == sorted([photo.id, party.id, paper.id])


async def test_enqueuing_a_blob_twice_makes_one_job(app, tmp_path):
    blob = await stored(app, files.png(tmp_path / "a.png"))
    await worker.enqueue(Tortoise.get_connection("default"), blob.id)
    assert await FileJob.filter(blob_id=blob.id).count() == 1


async def test_a_file_that_will_not_decode_is_tried_again_then_failed_and_announced(
        app, tmp_path, announced, monkeypatch, caplog):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(files.jpeg(tmp_path / "a.jpg").read_bytes()[:400])  # the header, and no picture
    blob = await stored(app, broken, "image/jpeg")
    for attempt in range(1, worker.MAX_ATTEMPTS):
        assert await work(app) == 1
        job = await FileJob.get(blob_id=blob.id)
        assert job.attempts == attempt and job.claimed_until is None
        assert await work(app) == 0  # not due until the backoff is over
        later(monkeypatch, worker.backoff(attempt) + 1)
        assert announced == []
    assert await work(app) == 1
    await blob.refresh_from_db()
    assert blob.preview == FAILED and blob.thumb_key is None
    assert announced == [blob.id]
    assert await FileJob.all().count() == 0
    assert "preview of blob" in caplog.text


async def test_a_bomb_fails_at_once_without_retries(app, tmp_path, announced):
    blob = await stored(app, files.png_bomb(tmp_path / "bomb.png"), "image/png")
    assert await work(app) == 1
    await blob.refresh_from_db()
    assert blob.preview == FAILED and announced == [blob.id]
    assert await FileJob.all().count() == 0


async def test_a_job_for_a_file_that_has_no_preview_fails_at_once(app, tmp_path, announced):
    blob = await stored(app, files.svg_with_script(tmp_path / "a.svg"))
    assert blob.type == "image/svg+xml"
    assert await work(app) == 1
    await blob.refresh_from_db()
    assert blob.preview == FAILED and announced == [blob.id]


async def test_a_file_missing_from_storage_is_retried_like_any_failure(app, tmp_path, announced):
    blob = await stored(app, files.png(tmp_path / "a.png"))
    await Runtime.of(app).storage.delete(blob.key)
    assert await work(app) == 1
    assert (await FileJob.get(blob_id=blob.id)).attempts == 1 and announced == []


async def test_a_worker_that_dies_holding_a_job_loses_nothing(app, settings, tmp_path, announced, monkeypatch):
    blob = await stored(app, files.jpeg(tmp_path / "a.jpg"))
    dead = worker.FileWorker(settings, Runtime.of(app).storage)
    (job,), claim = await dead._claim()  # claimed, then the process is killed
    assert job["blob_id"] == blob.id
    assert await work(app) == 0  # claimed by the dead one for a minute
    later(monkeypatch, 61)
    assert await work(app) == 1
    await blob.refresh_from_db()
    assert blob.preview == READY and announced == [blob.id]
    # Were the "dead" worker only slow, its late finish would find its claim gone: no second word.
    await dead._finish(job, claim, {"preview": FAILED})
    await blob.refresh_from_db()
    assert blob.preview == READY and announced == [blob.id]


async def test_a_start_removes_copies_a_killed_worker_left_once_they_are_old(settings):
    folder = settings.data_dir / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    old, fresh, other = folder / "preview-1-aa", folder / "preview-2-bb", folder / "upload-3"
    for path in (old, fresh, other):
        path.write_bytes(b"x")
    os.utime(old, (clock.now().timestamp() - 7200,) * 2)
    os.utime(other, (clock.now().timestamp() - 7200,) * 2)
    app = create_app(settings)
    async with app.test_app():
        pass
    assert not old.exists() and fresh.exists() and other.exists()


async def test_a_restart_makes_what_was_queued_and_the_worker_works_on_its_own(settings, tmp_path, announced):
    first = create_app(settings)
    async with first.test_app():
        await Runtime.of(first).files.stop()  # the process stops before its worker does anything
        queued = await stored(first, files.jpeg(tmp_path / "a.jpg"))
    done = asyncio.Event()
    signals.preview_ready.connect(receiver := _setter(done, 2))
    second = create_app(settings)
    try:
        async with second.test_app():  # its worker starts with it, and finds the job
            woken = await stored(second, files.png(tmp_path / "b.png"))
            Runtime.of(second).files.wake()  # as the upload does after its commit
            await asyncio.wait_for(done.wait(), 30)
            for blob in (queued, woken):
                await blob.refresh_from_db()
                assert blob.preview == READY
    finally:
        signals.preview_ready.receivers.remove(receiver)
    assert sorted(announced) == [queued.id, woken.id]


def _setter(event: asyncio.Event, count: int):
    """A receiver that sets event at the count-th announcement."""
    heard = []

    async def receiver(blob_id: int) -> None:
        heard.append(blob_id)
        if len(heard) == count:
            event.set()

    return receiver


def test_two_workers_on_one_postgresql_database_make_each_preview_once(pg_database, tmp_path):
    result = in_child("tests.test_file_worker", pg_database, str(tmp_path))
    assert result["blobs"] == 12 and result["ready"] == 12
    assert sorted(result["claimed"]) == sorted(set(result["claimed"])) and len(result["claimed"]) == 12
    assert sorted(result["announced"]) == sorted(set(result["announced"])) and len(result["announced"]) == 12
    assert min(result["by_worker"]) > 0, result  # both took part


async def _two_workers_on_postgresql(url: str, data_dir: str) -> dict:
    claimed, by_worker = count_claims(worker.FileWorker)
    announced = []

    async def receiver(blob_id: int) -> None:
        announced.append(blob_id)

    signals.preview_ready.connect(receiver)
    async with pg_site(url, data_dir) as app:
        one = Runtime.of(app).files
        await one.stop()
        two = worker.FileWorker(Runtime.of(app).settings, Runtime.of(app).storage)
        folder = Path(data_dir) / "made"
        folder.mkdir()
        for n in range(12):
            await stored(app, files.jpeg(folder / f"{n}.jpg", (300 + n, 200)))
        while sum(await asyncio.gather(one.work_due(), two.work_due())):
            pass
        ready = await Blob.filter(preview=READY).count()
        blobs = await Blob.all().count()
    by_worker = list(by_worker.values()) + [0] * (2 - len(by_worker))
    return {"claimed": claimed, "announced": announced, "by_worker": by_worker, "ready": ready, "blobs": blobs}


if __name__ == "__main__":
    child_main(_two_workers_on_postgresql)
