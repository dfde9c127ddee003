"""People's pictures (app/files/avatars.py, app/files/avatar_routes.py): a square cropped from an
upload, kept as 256 and 64 px webp without metadata, served to anyone signed in at its current
key only; replaced or removed, the old files go unless someone else has them; refused for what is
not a picture, a decompression bomb and a crop outside the image. Without one: initials."""
from __future__ import annotations

import asyncio
import io
import re
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from app import create_app
from app.files import avatars
from app.models import User
from app.runtime import Runtime
from tests.helpers import files
from tests.helpers.client import Client
from tests.helpers.postgres import child_main, in_child, pg_site

RED, BLUE = (220, 30, 30), (30, 30, 220)


async def upload(client: Client, path, *, csrf: bool = True, **fields):
    """The picture form as a browser posts it: multipart, the file in `file`, the crop beside it."""
    form = {name: str(value) for name, value in fields.items()}
    if csrf:
        form["csrf_token"] = await client.token()
    data = path.read_bytes() if path is not None else b""
    picked = FileStorage(io.BytesIO(data), filename=path.name if path is not None else "",
                         content_type="application/octet-stream")
    return await client.raw.post("/account/picture", form=form, files={"file": picked})


def picture_url(user: User, size: int = 256) -> str:
    return f"/people/{user.id}/avatar/{user.avatar}.webp?size={size}"


def storage(app):
    return Runtime.of(app).storage


async def served_image(client: Client, user: User, size: int) -> Image.Image:
    response = await client.get(picture_url(user, size))
    assert response.status_code == 200
    return Image.open(io.BytesIO(await response.get_data()))


def colour(image: Image.Image) -> tuple[int, ...]:
    return image.convert("RGB").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))


def near(found: tuple[int, ...], wanted: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(found, wanted, strict=True))


@pytest.fixture
async def alice_in(client, alice) -> Client:
    await client.login("alice")
    return client


async def test_a_picture_is_a_256_and_a_64_px_square_webp_without_metadata(app, alice_in, alice, tmp_path):
    photo = files.jpeg(tmp_path / "me.jpg", (640, 480))  # with GPS in its Exif
    response = await upload(alice_in, photo)
    assert response.status_code == 303
    assert response.headers["Location"] == "/users/alice"
    await alice.refresh_from_db()
    assert alice.avatar and alice.avatar_small and alice.avatar != alice.avatar_small
    for size in (256, 64):
        response = await alice_in.get(picture_url(alice, size))
        assert response.status_code == 200
        assert response.mimetype == "image/webp"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert "immutable" in response.headers["Cache-Control"]
        assert response.headers["Cache-Control"].startswith("private")
        data = await response.get_data()
        image = Image.open(io.BytesIO(data))
        assert (image.format, image.size) == ("WEBP", (size, size))
        assert not image.getexif() and "xmp" not in image.info and "exif" not in image.info
        assert b"Spyphone" not in data and b"GPS" not in data
    # A second request with the ETag is answered from the browser's copy.
    etag = response.headers["ETag"]
    again = await alice_in.get(picture_url(alice, 64), headers={"If-None-Match": etag})
    assert again.status_code == 304


@pytest.mark.parametrize("fields, wanted", [
    ({"x": 0, "y": 0, "size": 240}, RED),  # the left half
    ({"x": 240, "y": 0, "size": 240}, BLUE),  # the right half
    ({"x": 300, "y": 20, "size": 100}, BLUE),
])
async def test_the_square_chosen_is_the_square_kept(app, alice_in, alice, tmp_path, fields, wanted):
    await upload(alice_in, files.halves(tmp_path / "halves.png", (480, 240), RED, BLUE), **fields)
    await alice.refresh_from_db()
    assert near(colour(await served_image(alice_in, alice, 256)), wanted)


async def test_without_a_square_the_middle_is_kept(app, alice_in, alice, tmp_path):
    # 480 x 240 halves: the middle square is half red, half blue; a square that is all one colour
    # would mean the crop was taken from one side.
    await upload(alice_in, files.halves(tmp_path / "halves.png", (480, 240), RED, BLUE), x="", y="", size="")
    await alice.refresh_from_db()
    image = (await served_image(alice_in, alice, 256)).convert("RGB")
    assert near(image.getpixel((10, 128)), RED) and near(image.getpixel((245, 128)), BLUE)


async def test_the_square_is_in_the_picture_as_it_is_shown(app, alice_in, alice, tmp_path):
    """A phone photo turned by its Exif orientation: the square is chosen on the turned image (the
    one the browser shows), so a crop at its bottom fits though the stored pixels are wider."""
    photo = files.jpeg(tmp_path / "turned.jpg", (400, 200), orientation=6)  # shown 200 x 400
    assert (await upload(alice_in, photo, x=0, y=200, size=200)).status_code == 303
    await alice.refresh_from_db()
    assert alice.avatar is not None


@pytest.mark.parametrize("maker", [files.png, files.webp, files.animated_gif, files.heic])
async def test_every_picture_format_a_phone_or_browser_makes_is_taken(app, alice_in, alice, tmp_path, maker):
    assert (await upload(alice_in, maker(tmp_path / "picture"))).status_code == 303
    await alice.refresh_from_db()
    assert (await served_image(alice_in, alice, 64)).size == (64, 64)


async def test_a_new_picture_replaces_the_old_one_whose_files_and_url_go(app, alice_in, alice, tmp_path):
    await upload(alice_in, files.halves(tmp_path / "one.png", left=RED, right=RED))
    await alice.refresh_from_db()
    old, old_small, old_url = alice.avatar, alice.avatar_small, picture_url(alice)
    await upload(alice_in, files.halves(tmp_path / "two.png", left=BLUE, right=BLUE))
    await alice.refresh_from_db()
    assert alice.avatar not in (None, old)
    assert not await storage(app).exists(old) and not await storage(app).exists(old_small)
    assert await storage(app).exists(alice.avatar) and await storage(app).exists(alice.avatar_small)
    assert (await alice_in.get(old_url)).status_code == 404  # an old URL finds nothing
    assert (await alice_in.get(picture_url(alice))).status_code == 200


async def test_two_pictures_sent_at_once_leave_one_and_no_stray_files(app, alice_in, alice, tmp_path):
    one = files.halves(tmp_path / "one.png", left=RED, right=RED)
    two = files.halves(tmp_path / "two.png", left=BLUE, right=BLUE)
    answers = await asyncio.gather(upload(alice_in, one), upload(alice_in, two))
    assert [answer.status_code for answer in answers] == [303, 303]
    await alice.refresh_from_db()
    kept = sorted(path.name for path in nothing_stored(app))
    assert kept == sorted([alice.avatar, alice.avatar_small])  # the other picture's files went


async def test_a_picture_someone_else_also_has_stays_when_one_of_them_changes_theirs(app, make_client, alice,
                                                                                   bob, tmp_path):
    same = files.halves(tmp_path / "same.png", left=RED, right=BLUE)
    browsers = {}
    for person in (alice, bob):
        browsers[person.username] = make_client()
        await browsers[person.username].login(person.username)
        await upload(browsers[person.username], same)
        await person.refresh_from_db()
    assert alice.avatar == bob.avatar  # stored once, by content
    await browsers["alice"].post("/account/picture/remove")
    assert await storage(app).exists(bob.avatar) and await storage(app).exists(bob.avatar_small)
    assert (await browsers["alice"].get(picture_url(bob))).status_code == 200


async def test_removing_the_picture_brings_back_the_initials(app, alice_in, alice, tmp_path):
    await upload(alice_in, files.png(tmp_path / "me.png"))
    await alice.refresh_from_db()
    keys, url = (alice.avatar, alice.avatar_small), picture_url(alice)
    response = await alice_in.post("/account/picture/remove")
    assert response.status_code == 303
    await alice.refresh_from_db()
    assert (alice.avatar, alice.avatar_small) == (None, None)
    page = await (await alice_in.get("/users/alice")).get_data(as_text=True)
    assert "Your picture is removed" in page
    assert re.search(r'<span class="face face-large face-hue-\d+" data-initials="A" aria-hidden="true"></span>', page)
    assert "/avatar/" not in page and "Remove picture" not in page
    for key in keys:
        assert not await storage(app).exists(key)
    assert (await alice_in.get(url)).status_code == 404


def nothing_stored(app):
    return [path for path in (app.config["HUDDLE"].data_dir / "files").rglob("*") if path.is_file()]


@pytest.mark.parametrize("maker, message", [
    (files.svg_with_script, avatars.NOT_A_PICTURE),
    (files.html_page, avatars.NOT_A_PICTURE),
    (files.pdf, avatars.NOT_A_PICTURE),
    (files.png_signature_then_html, avatars.NOT_A_PICTURE),
    (lambda path: (path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40), path)[1], avatars.NOT_A_PICTURE),
])
async def test_what_is_not_a_picture_is_refused_where_the_person_looks(app, alice_in, alice, tmp_path, maker,
                                                                        message):
    response = await upload(alice_in, maker(tmp_path / "picture.png"))
    assert response.status_code == 422
    page = await response.get_data(as_text=True)
    assert message.replace("’", "&#39;") in page or message in page
    assert 'aria-invalid="true"' in page and 'id="avatar-file-error"' in page
    await alice.refresh_from_db()
    assert alice.avatar is None and nothing_stored(app) == []
    assert list((app.config["HUDDLE"].data_dir / "tmp").iterdir()) == []  # the upload's temp file went


async def test_a_decompression_bomb_is_refused_at_once(app, alice_in, alice, tmp_path):
    bomb = files.png_bomb(tmp_path / "bomb.png")  # 50,000 x 50,000 pixels in a few kilobytes
    started = time.monotonic()
    response = await upload(alice_in, bomb)
    assert time.monotonic() - started < 1
    assert response.status_code == 422
    assert avatars.TOO_MANY_PIXELS in await response.get_data(as_text=True)
    await alice.refresh_from_db()
    assert alice.avatar is None and nothing_stored(app) == []


@pytest.mark.parametrize("fields", [
    {"x": "abc", "y": "0", "size": "10"},
    {"x": "-1", "y": "0", "size": "10"},
    {"x": "1e3", "y": "0", "size": "10"},
    {"x": "１", "y": "0", "size": "10"},  # a full-width digit
    {"x": "0", "y": "0"},  # no size
    {"x": "0", "y": "0", "size": "0"},
    {"x": "300", "y": "0", "size": "200"},  # past the right edge of 480
    {"x": "0", "y": "100", "size": "200"},  # past the bottom of 240
    {"x": "0", "y": "0", "size": "9999999"},
])
async def test_a_square_outside_the_picture_is_refused(app, alice_in, alice, tmp_path, fields):
    response = await upload(alice_in, files.halves(tmp_path / "halves.png", (480, 240)), **fields)
    assert response.status_code == 422
    assert avatars.BAD_CROP in await response.get_data(as_text=True)
    await alice.refresh_from_db()
    assert alice.avatar is None


async def test_sending_no_file_asks_for_one(app, alice_in, alice):
    response = await upload(alice_in, None)
    assert response.status_code == 422
    assert "Choose a picture first." in await response.get_data(as_text=True)


async def test_a_picture_past_the_upload_limit_is_refused_while_it_streams(settings, tmp_path):
    app = create_app(settings.model_copy(update={"upload_max_bytes": 50_000}))
    async with app.test_app():
        await User.create_account("carol", "carol@example.com", "correct horse battery")
        client = Client(app)
        await client.login("carol")
        photo = files.noisy_photo(tmp_path / "big.jpg", (400, 400))  # noise: far past 50 kB
        response = await upload(client, photo)
        assert response.status_code == 413
        assert "at most 48.8 KB" in await response.get_data(as_text=True)
        assert (await User.get(username="carol")).avatar is None and nothing_stored(app) == []


async def test_uploads_count_in_the_posting_limit(app, alice_in, alice, tmp_path):
    Runtime.of(app).limiters.post_user.limit = 1
    assert (await upload(alice_in, files.png(tmp_path / "one.png"))).status_code == 303
    response = await upload(alice_in, files.png(tmp_path / "two.png"))
    assert response.status_code == 429 and response.headers["Retry-After"]
    assert "You are uploading very fast" in await response.get_data(as_text=True)


# --- who may do what ------------------------------------------------------------------------------

async def test_anonymous_people_see_no_picture_and_choose_none(app, client, alice, tmp_path):
    for path in ("/account/picture", f"/people/{alice.id}/avatar/{'0' * 64}.webp"):
        assert (await client.get(path)).status_code == 401
    assert (await upload(client, files.png(tmp_path / "me.png"))).status_code == 401
    assert (await client.post("/account/picture/remove")).status_code == 401


async def test_anyone_signed_in_sees_someones_picture_but_only_at_its_current_key(app, make_client, alice, bob,
                                                                                  admin, tmp_path):
    alice_browser = make_client()
    await alice_browser.login("alice")
    await upload(alice_browser, files.png(tmp_path / "me.png"))
    await alice.refresh_from_db()
    for name in ("bob", "admin"):
        other = make_client()
        await other.login(name)
        assert (await other.get(picture_url(alice))).status_code == 200
        assert (await other.get(picture_url(alice, 64))).status_code == 200
        for wrong in (f"/people/{alice.id}/avatar/{alice.avatar_small}.webp",  # the small key names nothing
                      f"/people/{alice.id}/avatar/{'0' * 64}.webp",
                      f"/people/{bob.id}/avatar/{alice.avatar}.webp",  # someone else's URL
                      f"/people/{alice.id}/avatar/{alice.avatar}.webp?size=128",
                      f"/people/{alice.id}/avatar/{alice.avatar}.webp?size=x",
                      f"/people/{alice.id}/avatar/..%2F..%2Fhuddle.db.webp",
                      f"/people/999999/avatar/{alice.avatar}.webp"):
            assert (await other.get(wrong)).status_code == 404, wrong


async def test_everyone_changes_only_their_own_picture(app, make_client, alice, bob, admin, tmp_path):
    """There is no one else's picture to choose: whatever a form names, it is the sender's (an
    administrator's too), and extra fields are ignored."""
    admin_browser = make_client()
    await admin_browser.login("admin")
    response = await upload(admin_browser, files.png(tmp_path / "me.png"), user_id=alice.id, username="alice")
    assert response.status_code == 303
    await alice.refresh_from_db()
    await admin.refresh_from_db()
    assert alice.avatar is None and admin.avatar is not None


async def test_without_the_form_token_nothing_changes(app, alice_in, alice, tmp_path):
    response = await upload(alice_in, files.png(tmp_path / "me.png"), csrf=False)
    assert response.status_code == 403
    await alice.refresh_from_db()
    assert alice.avatar is None and nothing_stored(app) == []


# --- where faces show -----------------------------------------------------------------------------

def test_initials_are_the_first_letters_of_the_first_and_last_words():
    cases = {"Ada Lovelace": "AL", "ada": "A", "bob_smith": "BS", "Jean-Luc Picard": "JP", "  ": "?",
             "Ada King Lovelace": "AL", "山田 太郎": "山太", "émile zola": "ÉZ", "!!! x": "X", "": "?"}
    assert {name: avatars.initials(name) for name in cases} == cases
    assert {avatars.hue(n) for n in range(100)} == set(range(avatars.HUES))


async def test_a_message_shows_its_authors_face_as_it_is_now(app, alice_in, alice, general, tmp_path):
    response = await alice_in.post(f"/chat/{general.id}/messages", {"body": "Hello, faces"})
    assert response.status_code in (200, 303)
    page = await (await alice_in.get(f"/chat/{general.id}")).get_data(as_text=True)
    head = page[page.index("Hello, faces") - 2000:page.index("Hello, faces")]
    assert re.search(r'class="face face-message face-hue-\d+" data-initials="A" aria-hidden="true"></span>', head)

    await upload(alice_in, files.png(tmp_path / "me.png"))
    await alice.refresh_from_db()
    page = await (await alice_in.get(f"/chat/{general.id}")).get_data(as_text=True)
    head = page[page.index("Hello, faces") - 2000:page.index("Hello, faces")]
    # The cached fragment is keyed by the author's label, which carries the picture's key.
    assert f'src="/people/{alice.id}/avatar/{alice.avatar}.webp?size=64"' in head
    assert "face-hue" not in head.split('class="message-head"')[-1]


async def test_people_lists_show_faces(app, alice_in, alice, bob, general, tmp_path):
    await upload(alice_in, files.png(tmp_path / "me.png"))
    await alice.refresh_from_db()
    for path in ("/", f"/chat/{general.id}", f"/chat/{general.id}/members", "/users/alice"):
        page = await (await alice_in.get(path)).get_data(as_text=True)
        assert f"/people/{alice.id}/avatar/{alice.avatar}.webp" in page, path
        if path != "/users/alice":
            assert re.search(r'face-hue-\d+" data-initials="B" aria-hidden="true"></span>', page), path  # bob has none


async def test_the_picture_page_offers_the_form_and_the_profile_too(app, alice_in, alice, bob):
    page = await (await alice_in.get("/account/picture")).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="file"' in page and 'data-crop-square' in page
    own = await (await alice_in.get("/users/alice")).get_data(as_text=True)
    assert 'action="/account/picture"' in own
    other = await (await alice_in.get("/users/bob")).get_data(as_text=True)
    assert 'action="/account/picture"' not in other  # only on one's own profile


async def test_a_deleted_accounts_picture_goes_with_it(app, alice_in, alice, tmp_path):
    await upload(alice_in, files.png(tmp_path / "me.png"))
    await alice.refresh_from_db()
    keys = alice.avatar, alice.avatar_small
    assert (await alice_in.post("/users/alice/delete")).status_code == 303
    for key in keys:
        assert not await storage(app).exists(key)


async def test_in_a_bucket_a_picture_is_a_short_lived_signed_url_after_the_same_checks(settings, s3_url, tmp_path):
    app = create_app(settings.model_copy(update={"storage_url": s3_url}))
    async with app.test_app():
        await User.create_account("dora", "dora@example.com", "correct horse battery")
        client = Client(app)
        await client.login("dora")
        assert (await upload(client, files.halves(tmp_path / "halves.png", left=BLUE, right=BLUE))).status_code == 303
        dora = await User.get(username="dora")
        response = await client.get(picture_url(dora, 64))
        assert response.status_code == 302 and "immutable" not in response.headers["Cache-Control"]
        with await asyncio.to_thread(urllib.request.urlopen, response.headers["Location"]) as fetched:
            assert fetched.status == 200 and fetched.headers["Content-Type"] == "image/webp"
            assert Image.open(io.BytesIO(fetched.read())).size == (64, 64)
        assert (await client.get(f"/people/{dora.id}/avatar/{'0' * 64}.webp")).status_code == 404
        await client.post("/account/picture/remove")
        assert not await storage(app).exists(dora.avatar)


def test_on_postgresql_pictures_sent_at_once_leave_one_and_no_stray_files(pg_database, tmp_path):
    """The person's row is locked while the keys change (FOR UPDATE): each upload sees the others'
    keys as old, so whichever wins, the losers' files are gone. In a process of its own: Tortoise
    keeps one database's dialect per process."""
    stored, keys = in_child("tests.test_avatars", pg_database, str(tmp_path))
    assert stored == keys and len(keys) == 2


async def _race_on_postgresql(url: str, data_dir: str) -> list:
    async with pg_site(url, data_dir) as app:
        await User.create_account("erin", "erin@example.com", "correct horse battery")
        browsers = [Client(app), Client(app)]
        for browser in browsers:
            await browser.login("erin")
        pictures = [files.halves(Path(data_dir) / f"{n}.png", left=shade, right=shade)
                    for n, shade in enumerate((RED, BLUE, (30, 200, 30), (200, 200, 30)))]
        answers = await asyncio.gather(*(upload(browsers[n % 2], picture) for n, picture in enumerate(pictures)))
        assert [answer.status_code for answer in answers] == [303] * 4
        erin = await User.get(username="erin")
        return [sorted(path.name for path in nothing_stored(app)), sorted([erin.avatar, erin.avatar_small])]


if __name__ == "__main__":
    child_main(_race_on_postgresql)
