"""app/storage/serve.py: what every file response says, whatever the file and whoever asked — the
guards (nosniff, a sandbox CSP, caching private to the browser), inline only for safe raster
images, any name written safely, ETag and 304, byte ranges — served from the data folder, and by a
signed redirect from an S3 bucket."""
from __future__ import annotations

import os
from urllib.parse import unquote

import aiohttp
import pytest
from quart import Quart, request

from app.config import Settings
from app.storage import CHUNK, key_of, open_storage
from app.storage.local import LocalStorage
from app.storage.serve import CSP, respond

DATA = os.urandom(2 * CHUNK + 100)
KEY = key_of(DATA)
GUARDS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": CSP}


def serving(storage) -> Quart:
    """A site whose one route answers with respond(): ?name=&type=&inline=1."""
    site = Quart(__name__)

    @site.route("/file/<key>")
    async def file(key: str):
        return await respond(storage, key, name=request.args.get("name", "data.bin"),
                             content_type=request.args.get("type", "application/octet-stream"),
                             size=len(DATA), inline=request.args.get("inline") == "1", etag=key)
    return site


@pytest.fixture
async def local(tmp_path):
    storage = LocalStorage(tmp_path / "files")
    await storage.put_bytes(KEY, DATA, "application/octet-stream")
    return serving(storage).test_client()


async def get(client, headers=None, key=KEY, **args):
    response = await client.get(f"/file/{key}", query_string=args, headers=headers or {})
    return response, await response.get_data()


def assert_guarded(response):
    for name, value in GUARDS.items():
        assert response.headers[name] == value
    assert "sandbox" in response.headers["Content-Security-Policy"]


async def test_a_file_streams_from_storage_in_chunks(tmp_path):
    storage = LocalStorage(tmp_path / "files")
    await storage.put_bytes(KEY, DATA, "application/octet-stream")
    async with Quart(__name__).test_request_context(f"/file/{KEY}"):
        response = await respond(storage, KEY, name="a.bin", content_type="application/octet-stream", size=len(DATA),
                                 inline=False, etag=KEY)
    async with response.response as body:
        chunks = [chunk async for chunk in body]
    assert b"".join(chunks) == DATA
    assert len(chunks) > 1 and max(map(len, chunks)) <= CHUNK  # never read whole into memory
    assert response.timeout is None  # a slow line is not cut off


async def test_a_file_is_sent_whole_with_the_guards_and_private_caching(local):
    response, body = await get(local)
    assert response.status_code == 200 and body == DATA
    assert_guarded(response)
    assert response.headers["Cache-Control"] == "private, max-age=86400"
    assert response.headers["ETag"] == f'"{KEY}"'
    assert response.headers["Content-Length"] == str(len(DATA))
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(("kind", "inline", "shown"), [
    ("image/png", True, "inline"), ("image/jpeg", True, "inline"), ("image/gif", True, "inline"),
    ("image/webp", True, "inline"), ("image/png", False, "attachment"),
    ("image/svg+xml", True, "attachment"), ("text/html", True, "attachment"), ("application/pdf", True, "attachment"),
    ("text/plain", True, "attachment"), ("image/heic", True, "attachment"), ("image/bmp", True, "attachment"),
    ("application/octet-stream", True, "attachment"),
    ("image/png; charset=x\r\nX-Evil: 1", True, "attachment"),
])
async def test_only_safe_raster_images_are_shown_inline(local, kind, inline, shown):
    response, body = await get(local, name="thing", type=kind, inline="1" if inline else "")
    assert response.status_code == 200 and body == DATA
    assert response.headers["Content-Disposition"].split(";")[0] == shown
    assert_guarded(response)
    assert "X-Evil" not in response.headers
    if "\n" in kind:
        assert response.headers["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(("name", "fallback", "exact"), [
    ("report.pdf", "report.pdf", "report.pdf"),
    ('say "hello".txt', "say _hello_.txt", 'say "hello".txt'),
    ("two\r\nlines\n.txt", "twolines.txt", "twolines.txt"),
    ("Zoë's café — notes.txt", "Zoe's cafe  notes.txt", "Zoë's café — notes.txt"),
    ("報告.pdf", "file.pdf", "報告.pdf"),
    ("../../etc/passwd", "etc_passwd", "etc_passwd"),
    ("..\\..\\boot.ini", "boot.ini", "boot.ini"),
    ("\u202egpj.exe", "gpj.exe", "gpj.exe"),
    ("", "file", "file"),
    ("100% sure;x=y.txt", "100_ sure;x=y.txt", "100% sure;x=y.txt"),
])
async def test_any_name_is_one_safe_header_with_its_exact_utf8_form(local, name, fallback, exact):
    response, _ = await get(local, name=name, type="text/plain")
    value = response.headers["Content-Disposition"]
    assert value.isascii() and "\r" not in value and "\n" not in value
    start, quoted, encoded = value.partition('; filename="')[0], *value.partition('; filename="')[2].split('"; ')
    assert start == "attachment"
    assert quoted == fallback
    assert encoded.startswith("filename*=UTF-8''")
    assert " " not in encoded and '"' not in encoded and ";" not in encoded.removeprefix("filename*=UTF-8''")
    assert unquote(encoded.removeprefix("filename*=UTF-8''")) == exact


async def test_a_browser_with_the_file_gets_304(local):
    for sent in (f'"{KEY}"', f'W/"{KEY}"', f'"other", "{KEY}"', "*"):
        response, body = await get(local, {"If-None-Match": sent})
        assert response.status_code == 304 and body == b""
        assert_guarded(response)
        assert response.headers["ETag"] == f'"{KEY}"'
        assert response.headers["Cache-Control"] == "private, max-age=86400"
    response, body = await get(local, {"If-None-Match": '"stale"'})
    assert response.status_code == 200 and body == DATA


@pytest.mark.parametrize(("asked", "start", "end"), [
    ("bytes=0-99", 0, 100), ("bytes=100-", 100, len(DATA)), ("bytes=-10", len(DATA) - 10, len(DATA)),
    (f"bytes={CHUNK - 5}-{CHUNK + 5}", CHUNK - 5, CHUNK + 6), ("bytes=10-999999999", 10, len(DATA)),
    ("bytes=-999999999", 0, len(DATA)), ("BYTES=5-5", 5, 6),
])
async def test_a_range_is_206_with_exactly_its_bytes(local, asked, start, end):
    response, body = await get(local, {"Range": asked})
    assert response.status_code == 206
    assert body == DATA[start:end]
    assert response.headers["Content-Range"] == f"bytes {start}-{end - 1}/{len(DATA)}"
    assert response.headers["Content-Length"] == str(end - start)
    assert_guarded(response)


@pytest.mark.parametrize("asked", [f"bytes={len(DATA)}-", f"bytes={len(DATA) + 5}-{len(DATA) + 9}", "bytes=-0"])
async def test_a_range_past_the_end_is_416(local, asked):
    response, body = await get(local, {"Range": asked})
    assert response.status_code == 416 and body == b""
    assert response.headers["Content-Range"] == f"bytes */{len(DATA)}"
    assert_guarded(response)


@pytest.mark.parametrize("headers", [
    {"Range": "bytes=0-1,5-6"}, {"Range": "bytes=9-3"}, {"Range": "bytes=abc"}, {"Range": "lines=1-2"},
    {"Range": "bytes=-"}, {"Range": "bytes=0-9", "If-Range": '"an older version"'},
])
async def test_a_range_we_do_not_serve_gets_the_whole_file(local, headers):
    response, body = await get(local, headers)
    assert response.status_code == 200 and body == DATA


async def test_a_file_missing_from_storage_is_404(local):
    response, _ = await get(local, key=key_of(b"never stored"))
    assert response.status_code == 404


async def test_from_a_bucket_the_answer_is_a_short_lived_url_that_downloads_safely(s3_url, tmp_path):
    storage = open_storage(Settings(data_dir=tmp_path, storage_url=s3_url))
    await storage.put_bytes(KEY, DATA, "image/svg+xml")
    client = serving(storage).test_client()
    response, _ = await get(client, name='<script>.svg', type="image/svg+xml", inline="1")
    assert response.status_code == 302
    assert_guarded(response)
    assert response.headers["Cache-Control"] == "private, no-store"  # the URL expires: never reuse it
    assert "X-Amz-Expires=300" in response.headers["Location"]
    async with aiohttp.ClientSession() as session, session.get(response.headers["Location"]) as download:
        assert download.status == 200 and await download.read() == DATA
        assert download.headers["Content-Type"] == "image/svg+xml"
        assert download.headers["Content-Disposition"] == (
            "attachment; filename=\"<script>.svg\"; filename*=UTF-8''%3Cscript%3E.svg")
    assert (await get(client, {"If-None-Match": f'"{KEY}"'}))[0].status_code == 304
    await storage.close()
