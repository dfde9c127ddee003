"""Bytes on the wire (app/web/assets.py, app/web/compression.py): static files under versioned
URLs, cached a year when the hash is current and briefly otherwise; brotli or gzip as the client
asks, for text past 1 KB only; images, file downloads and byte ranges untouched."""
from __future__ import annotations

import gzip
import re
import shutil
import urllib.request

import brotli
import pytest

from app.web.assets import IMMUTABLE, KEY, SHORT, Assets
from tests.helpers import live, uploads
from tests.helpers.client import without_tokens

CSS = re.compile(r'href="(/static/bundle/huddle\.css\?v=([0-9a-f]{12}))"')  # css/huddle.css and the others
SCRIPT = re.compile(r'src="(/static/js/composer\.js\?v=([0-9a-f]{12}))"')


async def versioned_css(client) -> tuple[str, str]:
    page = await client.get("/login")
    match = CSS.search(await page.get_data(as_text=True))
    assert match, "the page links its stylesheet by a versioned URL"
    return match.group(1), match.group(2)


def decoded(body: bytes, coding: str | None) -> bytes:
    return {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda data: data}[coding](body)


async def test_a_page_links_static_files_by_content_hash_cached_a_year(app, client):
    url, version = await versioned_css(client)
    response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.mimetype == "text/css"
    assert version in response.headers["ETag"]
    again = await client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("query", ["", "?v=000000000000", "?v="])
async def test_an_unversioned_or_stale_url_still_answers_with_a_short_cache(app, client, query):
    url, _ = await versioned_css(client)
    current = await (await client.get(url)).get_data()
    response = await client.get("/static/bundle/huddle.css" + query)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == SHORT
    assert await response.get_data() == current


async def test_a_stylesheet_refers_to_its_images_by_their_hash(app, client):
    url, _ = await versioned_css(client)
    css = await (await client.get(url)).get_data(as_text=True)
    search = app.extensions[KEY].version("img/search.svg")
    assert f'url("../img/search.svg?v={search}")' in css


async def test_a_changed_file_gets_a_new_hash_and_its_stylesheet_too(tmp_path):
    (tmp_path / "css").mkdir()
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "dot.svg").write_text("<svg/>")
    (tmp_path / "css" / "site.css").write_text('a { background: url(../img/dot.svg) }')
    (tmp_path / "app.js").write_text("var a = 1;")
    assets = Assets(tmp_path)
    script, sheet = assets.version("app.js"), assets.version("css/site.css")
    assert not assets.refresh()
    (tmp_path / "app.js").write_text("var a = 2;")
    assert assets.refresh()
    assert assets.version("app.js") != script and assets.version("css/site.css") == sheet
    (tmp_path / "img" / "dot.svg").write_text("<svg></svg>")
    assert assets.refresh()
    assert assets.version("css/site.css") != sheet


async def test_with_auto_reload_a_page_names_the_new_hash_at_once(settings, tmp_path):
    from app import create_app

    app = create_app(settings.model_copy(update={"templates_auto_reload": True}))
    folder = tmp_path / "static-copy"
    shutil.copytree(app.static_folder, folder)
    app.extensions[KEY].folder = folder
    async with app.test_app():
        client = app.test_client()
        before = SCRIPT.search(await (await client.get("/login")).get_data(as_text=True))
        with (folder / "js" / "composer.js").open("a") as script:
            script.write("\n// changed\n")
        after = SCRIPT.search(await (await client.get("/login")).get_data(as_text=True))
        assert before and after and before.group(2) != after.group(2)
        new = await client.get(after.group(1))
        assert new.headers["Cache-Control"] == IMMUTABLE
        assert (await new.get_data(as_text=True)).endswith("// changed\n")
        old = await client.get(before.group(1))
        assert old.status_code == 200 and old.headers["Cache-Control"] == SHORT


@pytest.mark.parametrize("accept, coding", [
    ("gzip, deflate, br", "br"), ("br", "br"), ("gzip", "gzip"), ("*", "br"),
    ("br;q=0, gzip", "gzip"), ("gzip;q=1, br;q=0.5", "gzip"), ("br;q=0, gzip;q=0", None),
    ("identity", None), ("", None), ("deflate", None),
])
async def test_static_text_is_negotiated_by_accept_encoding(app, client, accept, coding):
    url, _ = await versioned_css(client)
    plain = await (await client.get(url)).get_data()
    response = await client.get(url, headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == coding
    assert "Accept-Encoding" in response.headers["Vary"]
    body = await response.get_data()
    assert decoded(body, coding) == plain
    if coding:
        assert len(body) < len(plain) / 3
        assert response.headers["ETag"] != (await client.get(url)).headers["ETag"]


@pytest.mark.parametrize("coding", ["br", "gzip"])
async def test_pages_are_compressed_and_vary_on_accept_encoding(app, client, coding):
    plain = await client.get("/login")
    response = await client.get("/login", headers={"Accept-Encoding": coding})
    assert response.headers["Content-Encoding"] == coding
    assert "Accept-Encoding" in response.headers["Vary"]
    # The same page, but for its CSRF token: masked anew in every response (against BREACH).
    assert without_tokens(decoded(await response.get_data(), coding).decode()) == without_tokens(
        await plain.get_data(as_text=True))
    assert "Content-Encoding" not in plain.headers


async def test_small_bodies_and_images_are_sent_as_they_are(app, client):
    for path in ("/static/img/favicon.svg", "/static/img/icon-512.png", "/healthz"):
        response = await client.get(path, headers={"Accept-Encoding": "br, gzip"})
        assert response.status_code == 200, path
        assert "Content-Encoding" not in response.headers, path


async def test_a_byte_range_of_a_static_file_is_the_identity_bytes(app, client):
    whole = await (await client.get("/static/img/icon-512.png")).get_data()
    response = await client.get("/static/img/icon-512.png", headers={"Range": "bytes=0-9", "Accept-Encoding": "br"})
    assert response.status_code == 206
    assert await response.get_data() == whole[:10]
    script = await client.get("/static/js/composer.js", headers={"Range": "bytes=5-", "Accept-Encoding": "br"})
    assert script.status_code == 206 and "Content-Encoding" not in script.headers


def test_on_the_real_server_head_says_what_get_would_send(tmp_path):
    """Through Hypercorn: the compressed bytes and their length as sent, and HEAD's headers alike
    with no body (Quart's test client keeps a HEAD's body; the server drops it)."""
    from tests.helpers.server import Server

    server = Server(tmp_path)
    try:
        page = urllib.request.urlopen(urllib.request.Request(server.url + "/login"), timeout=5).read().decode()
        url = server.url + CSS.search(page).group(1)
        for coding in ("br", "gzip", None):
            headers = {"Accept-Encoding": coding} if coding else {}
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as got:
                body, got_headers = got.read(), got.headers
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers, method="HEAD"), timeout=5) as head:
                assert head.read() == b""
                assert head.headers.get("Content-Encoding") == got_headers.get("Content-Encoding") == coding
                assert head.headers["Content-Length"] == got_headers["Content-Length"] == str(len(body))
                assert head.headers["Cache-Control"] == IMMUTABLE
            assert b"--accent" in decoded(body, coding)
    finally:
        server.stop()


async def test_a_file_download_streams_uncompressed_with_its_ranges(app, alice, sign_in, tmp_path):
    alices = await sign_in("alice")
    path = tmp_path / "notes.txt"
    path.write_text("A line of notes that compresses very well.\n" * 200)
    answer = await (await uploads.page_upload(alices, path, content_type="text/plain",
                                              )).get_json()  # a streamed upload: @streams_body
    whole = await alices.get(answer["url"], headers={"Accept-Encoding": "br, gzip"})
    assert whole.status_code == 200 and "Content-Encoding" not in whole.headers
    assert await whole.get_data() == path.read_bytes()
    part = await alices.get(answer["url"], headers={"Accept-Encoding": "br, gzip", "Range": "bytes=0-9"})
    assert part.status_code == 206 and "Content-Encoding" not in part.headers
    assert await part.get_data() == path.read_bytes()[:10]


async def test_the_service_worker_and_manifest_keep_their_fixed_urls(app, client):
    worker = await client.get("/service-worker.js")
    assert worker.status_code == 200 and worker.headers["Cache-Control"] == "no-cache"
    manifest = await (await client.get("/manifest.webmanifest")).get_json()
    icon = manifest["icons"][0]["src"]
    assert re.fullmatch(r"/static/img/icon-192\.png\?v=[0-9a-f]{12}", icon)
    assert (await client.get(icon)).headers["Cache-Control"] == IMMUTABLE


async def test_a_file_added_after_the_start_is_served_with_a_short_cache(app, client, tmp_path):
    folder = tmp_path / "static-copy"
    shutil.copytree(app.static_folder, folder)
    app.static_folder = str(folder)
    app.extensions[KEY].folder = folder
    await versioned_css(client)  # the folder is read
    (folder / "js" / "new.js").write_text("var added = true;")
    response = await client.get("/static/js/new.js")
    assert response.status_code == 200 and response.headers["Cache-Control"] == SHORT
    assert (await client.get("/static/js/missing.js")).status_code == 404


async def test_the_live_socket_sends_plain_text_whatever_the_client_accepts(app, alice, sign_in):
    alices = await sign_in("alice")
    headers = {**live.ORIGIN, "Accept-Encoding": "br, gzip"}
    async with alices.raw.websocket("/live", headers=headers) as socket:
        await live.hello(socket)
        snapshot = await live.receive_until(socket, 'id="live-presence" data-snapshot')
    assert isinstance(snapshot, str) and len(snapshot.encode()) > 0
