"""`python -m app move-files URL`: every stored file copied to another storage — the data folder
to a bucket on a real S3 API and back — checked against its key, safe to run again."""
from __future__ import annotations

import os
import subprocess
import sys

from app.config import ROOT, Settings
from app.storage import key_of, open_storage
from app.storage.local import LocalStorage

FILES = [os.urandom(size) for size in (0, 10, 200_000)]


def move_files(data_dir, url, storage_url=""):
    env = dict(os.environ, HUDDLE_DATA_DIR=str(data_dir), HUDDLE_DATABASE_URL="", HUDDLE_STORAGE_URL=storage_url)
    return subprocess.run([sys.executable, "-m", "app", "move-files", url], cwd=ROOT, env=env, capture_output=True,
                          text=True)


async def keys(storage) -> set[str]:
    return {key async for key in storage.keys()}


async def test_files_move_to_a_bucket_and_back_and_moving_again_copies_nothing(tmp_path, s3_url):
    local = LocalStorage(tmp_path / "files")
    for data in FILES:
        await local.put_bytes(key_of(data), data, "application/octet-stream")

    moved = move_files(tmp_path, s3_url)
    assert moved.returncode == 0, moved.stderr
    assert "Copied 3 files; 0 were there already." in moved.stdout
    assert f"set HUDDLE_STORAGE_URL={s3_url}" in moved.stdout
    bucket = open_storage(Settings(data_dir=tmp_path, storage_url=s3_url))
    assert await keys(bucket) == {key_of(data) for data in FILES}
    for data in FILES:
        assert await bucket.read_bytes(key_of(data)) == data

    newer = b"uploaded while the first copy ran"
    await local.put_bytes(key_of(newer), newer, "text/plain")
    again = move_files(tmp_path, s3_url)
    assert again.returncode == 0 and "Copied 1 file; 3 were there already." in again.stdout
    assert await bucket.read_bytes(key_of(newer)) == newer
    await bucket.close()

    back = move_files(tmp_path, str(tmp_path / "elsewhere"), storage_url=s3_url)
    assert back.returncode == 0, back.stderr
    assert await keys(LocalStorage(tmp_path / "elsewhere")) == await keys(local)
    assert not list((tmp_path / "tmp").glob("move-*"))  # nothing left behind


async def test_a_damaged_file_is_reported_and_not_copied(tmp_path):
    local = LocalStorage(tmp_path / "files")
    good, bad = key_of(b"good"), key_of(b"bad")
    await local.put_bytes(good, b"good", "text/plain")
    await local.put_bytes(bad, b"bad", "text/plain")
    local.path(bad).write_bytes(b"flipped bits")
    moved = move_files(tmp_path, str(tmp_path / "target"))
    assert moved.returncode == 1
    assert f"1 damaged (their bytes no longer match their keys), not copied: {bad}" in moved.stderr
    assert await keys(LocalStorage(tmp_path / "target")) == {good}


def test_a_wrong_or_same_place_is_refused(tmp_path):
    for url, said in [("ftp://files.example.com", "Unsupported HUDDLE_STORAGE_URL"),
                      (str(tmp_path / "files"), "already kept there")]:
        refused = move_files(tmp_path, url)
        assert refused.returncode == 1 and said in refused.stderr
