"""Storage: the same contract, tested the same way, for both places files are kept — the data
folder and an S3 bucket on a real S3 API (moto's server, tests/helpers/s3.py)."""
from __future__ import annotations

import hashlib
import os

import aiohttp
import pytest

from app.config import Settings
from app.storage import CHUNK, InvalidKey, key_of, key_of_file, open_storage
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage

BIG = os.urandom(3 * CHUNK + 17)  # several chunks and a bit
SMALL = b"the same bytes are stored once"


@pytest.fixture(params=["local", "s3"])
async def storage(request, tmp_path):
    url = request.getfixturevalue("s3_url") if request.param == "s3" else ""
    made = open_storage(Settings(data_dir=tmp_path, storage_url=url))
    yield made
    await made.close()


async def stored_keys(storage) -> list[str]:
    return sorted([key async for key in storage.keys()])


async def read(storage, key, start=0, end=None) -> bytes:
    return b"".join([chunk async for chunk in storage.stream(key, start, end)])


def test_the_storage_url_chooses_the_place(tmp_path):
    assert isinstance(open_storage(Settings(data_dir=tmp_path)), LocalStorage)
    assert open_storage(Settings(data_dir=tmp_path)).root == tmp_path / "files"
    assert open_storage(Settings(data_dir=tmp_path, storage_url=str(tmp_path / "elsewhere"))).root == \
        tmp_path / "elsewhere"
    assert open_storage(Settings(data_dir=tmp_path, storage_url=f"file://{tmp_path}/x")).root == tmp_path / "x"
    bucket = open_storage(Settings(data_dir=tmp_path, storage_url=(
        "s3://team-files/huddle?endpoint=https://s3.example.com&region=eu-west-1")))
    assert isinstance(bucket, S3Storage)
    assert (bucket.bucket, bucket.prefix, bucket.endpoint, bucket.region) == (
        "team-files", "huddle/", "https://s3.example.com", "eu-west-1")
    for wrong in ("ftp://host/files", "s3://?endpoint=https://x", "s3://bucket?secret=1", "redis://x"):
        with pytest.raises(ValueError, match="HUDDLE_STORAGE_URL"):
            open_storage(Settings(data_dir=tmp_path, storage_url=wrong))


def test_a_key_is_the_sha256_of_the_bytes(tmp_path):
    (tmp_path / "big").write_bytes(BIG)
    assert key_of(BIG) == key_of_file(tmp_path / "big") == hashlib.sha256(BIG).hexdigest()


async def test_bytes_put_are_there_whole(storage):
    key = key_of(SMALL)
    assert not await storage.exists(key) and await storage.size(key) is None
    await storage.put_bytes(key, SMALL, "text/plain")
    assert await storage.exists(key)
    assert await storage.size(key) == len(SMALL)
    assert await storage.read_bytes(key) == SMALL == await read(storage, key)


async def test_a_file_put_is_stored_and_stays_the_callers(storage, tmp_path):
    source = tmp_path / "upload.tmp"
    source.write_bytes(BIG)
    key = key_of(BIG)
    await storage.put_file(key, source, "application/octet-stream")
    assert source.read_bytes() == BIG  # still there: the caller removes it
    source.unlink()
    assert await storage.read_bytes(key) == BIG
    await storage.copy_to_path(key, tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == BIG


async def test_the_same_bytes_twice_are_stored_once(storage, tmp_path):
    key = key_of(SMALL)
    (tmp_path / "again").write_bytes(SMALL)
    await storage.put_bytes(key, SMALL, "text/plain")
    await storage.put_bytes(key, SMALL, "text/plain")
    await storage.put_file(key, tmp_path / "again", "text/plain")
    assert await stored_keys(storage) == [key]
    assert await storage.read_bytes(key) == SMALL


@pytest.mark.parametrize(("start", "end"), [
    (0, None), (0, 1), (5, 10), (CHUNK - 1, CHUNK + 1), (CHUNK, 2 * CHUNK), (len(BIG) - 3, None),
    (len(BIG) - 3, len(BIG) + 100), (10, 10),
])
async def test_any_range_streams_exactly_its_bytes(storage, start, end):
    key = key_of(BIG)
    await storage.put_bytes(key, BIG, "application/octet-stream")
    assert await read(storage, key, start, end) == BIG[start:end]


async def test_a_big_file_streams_in_chunks(storage):
    key = key_of(BIG)
    await storage.put_bytes(key, BIG, "application/octet-stream")
    chunks = [chunk async for chunk in storage.stream(key)]
    assert len(chunks) > 1 and max(map(len, chunks)) <= CHUNK


async def test_what_is_missing_is_not_found_and_deleting_it_is_fine(storage, tmp_path):
    key = key_of(b"never stored")
    with pytest.raises(FileNotFoundError):
        await storage.read_bytes(key)
    with pytest.raises(FileNotFoundError):
        await read(storage, key)
    with pytest.raises(FileNotFoundError):
        await storage.copy_to_path(key, tmp_path / "nothing")
    await storage.delete(key)


async def test_a_deleted_file_is_gone(storage):
    keep, drop = key_of(SMALL), key_of(BIG)
    await storage.put_bytes(keep, SMALL, "text/plain")
    await storage.put_bytes(drop, BIG, "application/octet-stream")
    assert await stored_keys(storage) == sorted([keep, drop])
    await storage.delete(drop)
    await storage.delete(drop)
    assert not await storage.exists(drop) and await storage.size(drop) is None
    assert await stored_keys(storage) == [keep]


NOT_KEYS = ["../../etc/passwd", "", "a" * 63, "a" * 65, "A" * 64, "g" * 64, "a" * 63 + "/", "/" + "a" * 63,
            "a" * 64 + "\n", "..", "a" * 62 + "/.", 12]


@pytest.mark.parametrize("key", NOT_KEYS)
async def test_anything_but_a_key_is_refused_before_any_io(storage, key, tmp_path):
    (tmp_path / "file").write_bytes(SMALL)
    attempts = [
        storage.put_bytes(key, SMALL, "text/plain"), storage.put_file(key, tmp_path / "file", "text/plain"),
        storage.exists(key), storage.delete(key), storage.size(key), storage.read_bytes(key), read(storage, key),
        storage.copy_to_path(key, tmp_path / "copy"),
        storage.signed_url(key, filename="a.txt", content_type="text/plain", inline=False),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidKey):
            await attempt
    assert await stored_keys(storage) == []
    assert not (tmp_path / "copy").exists()


async def test_local_files_live_by_key_and_half_written_ones_are_not_keys(tmp_path):
    storage = LocalStorage(tmp_path / "files")
    key = key_of(SMALL)
    await storage.put_bytes(key, SMALL, "text/plain")
    assert (tmp_path / "files" / key[:2] / key[2:4] / key).read_bytes() == SMALL
    (tmp_path / "files" / key[:2] / key[2:4] / ".part-x1y2").write_bytes(b"half")  # a copy cut short
    (tmp_path / "files" / key[:2] / key[2:4] / key_of(b"elsewhere")).write_bytes(b"misplaced")
    assert await stored_keys(storage) == [key]
    assert await storage.signed_url(key, filename="a.txt", content_type="text/plain", inline=False) is None


async def test_prefixes_share_a_bucket_without_seeing_each_other(s3_url):
    bucket, _, query = s3_url.removeprefix("s3://").partition("?")
    one, two = (open_storage(Settings(storage_url=f"s3://{bucket}/{name}?{query}")) for name in ("one", "two"))
    await one.put_bytes(key_of(SMALL), SMALL, "text/plain")
    assert await stored_keys(one) == [key_of(SMALL)] and await stored_keys(two) == []
    assert not await two.exists(key_of(SMALL))
    await one.close()
    await two.close()


@pytest.mark.parametrize(("name", "kind", "inline", "disposition"), [
    ("report.pdf", "application/pdf", False, "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"),
    ("<svg onload>.svg", "image/svg+xml", True,
     "attachment; filename=\"<svg onload>.svg\"; filename*=UTF-8''%3Csvg%20onload%3E.svg"),
    ("Café.png", "image/png", True, "inline; filename=\"Cafe.png\"; filename*=UTF-8''Caf%C3%A9.png"),
])
async def test_a_signed_url_downloads_the_file_with_our_headers(s3_url, tmp_path, name, kind, inline, disposition):
    storage = open_storage(Settings(data_dir=tmp_path, storage_url=s3_url))
    key = key_of(BIG)
    await storage.put_bytes(key, BIG, kind)
    url = await storage.signed_url(key, filename=name, content_type=kind, inline=inline, seconds=60)
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        assert await response.read() == BIG
        assert response.headers["Content-Type"] == kind
        assert response.headers["Content-Disposition"] == disposition
        assert response.headers["Cache-Control"].startswith("private")
    await storage.close()


async def test_the_running_app_keeps_files_where_the_setting_says(settings, s3_url):
    from app import create_app
    from app.runtime import Runtime

    for url, kind in (("", LocalStorage), (s3_url, S3Storage)):
        app = create_app(settings.model_copy(update={"storage_url": url}))
        async with app.test_app():
            storage = Runtime.of(app).storage
            assert isinstance(storage, kind)
            await storage.put_bytes(key_of(SMALL), SMALL, "text/plain")
        again = open_storage(settings, url)
        assert await again.read_bytes(key_of(SMALL)) == SMALL
        await again.close()
    assert (settings.data_dir / "files").is_dir()


def test_where_services_are_promised_no_s3_server_is_a_failure(monkeypatch):
    import moto.server

    from tests.helpers.s3 import S3Server

    def refuse(*args, **kwargs):
        raise OSError("no S3 here")

    monkeypatch.setattr(moto.server, "ThreadedMotoServer", refuse)
    monkeypatch.setenv("HUDDLE_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="moto's S3 server could not start"):
        S3Server()
