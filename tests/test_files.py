"""Files in messages (app/files/): an upload streamed in with its limits enforced as it arrives,
its type from its bytes, served only to who may read its message now and never as our page, sent
with a message in every door, removed with it; previews announced like an edit."""
from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta
from urllib.parse import quote, unquote

import pytest
from PIL import Image

from app import clock, create_app
from app.chat import service as chat
from app.files import service as files
from app.models import Attachment, Blob, Conversation, FileJob, Message
from app.runtime import Runtime
from tests.helpers import files as made
from tests.helpers import uploads
from tests.helpers.accounts import make_user
from tests.helpers.api import act, api_login, json_socket, pushed
from tests.helpers.chat import lift_posting_limit
from tests.helpers.client import Client
from tests.helpers.live import page, receive_until

LIMIT = 256 * 1024
QUOTA = 600 * 1024


@pytest.fixture
def settings(settings):
    """Small limits, so a test passes them with small files."""
    settings.upload_max_bytes = LIMIT
    settings.upload_quota_bytes = QUOTA
    return settings


@pytest.fixture
async def room(app, general, alice, bob):
    """A closed room of alice's with bob in it (the admin is not a member)."""
    async with app.app_context():
        return await chat.create_room(alice, "plans", is_open=False, member_names=["bob"])


def temp_files(settings) -> list:
    """Uploads waiting in tmp/ (the preview worker's own copies are its business)."""
    return sorted((settings.data_dir / "tmp").glob("upload-*"))


async def uploaded(client, path, **kwargs) -> dict:
    response = await uploads.page_upload(client, path, **kwargs)
    answer = await response.get_json()
    assert response.status_code == 201, answer
    return answer


async def send(client, conversation, body: str = "", ids=(), **form):
    """Post from the composer's script (htmx), with the ids of files uploaded already."""
    data = [("body", body), ("client_id", ""), *(("attachments", str(each)) for each in ids), *form.items()]
    headers = {"X-CSRF-Token": await client.token(), "HX-Request": "true"}
    return await client.raw.post(f"/chat/{conversation.id}/messages", form=data, headers=headers)


# --- upload, send, read ---------------------------------------------------------------------------

async def test_a_file_sent_with_a_message_reaches_the_other_member_in_the_api_and_the_event(
        app, room, sign_in, tmp_path):
    alices = await sign_in("alice")
    bobs = await api_login(app, "bob")
    async with json_socket(app) as socket:
        assert "data" in await act(socket, "auth", {"token": bobs.token})
        photo = await uploaded(alices, made.jpeg(tmp_path / "holiday.jpg"))
        assert (photo["name"], photo["type"], photo["width"], photo["height"]) == (
            "holiday.jpg", "image/jpeg", 640, 480)
        assert photo["thumbnail_url"] is None and photo["remove_url"]
        sent = await send(alices, room, "look", [photo["id"]])
        assert sent.status_code == 200, await sent.get_data(as_text=True)
        event = (await pushed(socket, "message.created"))["data"]
    shown = event["attachments"]
    assert [(f["id"], f["name"], f["type"], f["size"]) for f in shown] == [
        (photo["id"], "holiday.jpg", "image/jpeg", photo["size"])]
    status, listing, _ = await bobs.get(f"/api/v1/conversations/{room.id}/messages")
    def without_thumbnail(found):  # the background worker may have made it by now
        return [{k: v for k, v in each.items() if k != "thumbnail_url"} for each in found]
    assert status == 200
    assert without_thumbnail(listing["data"]["messages"][0]["attachments"]) == without_thumbnail(shown)
    got = await bobs.raw.get(shown[0]["url"], headers=bobs.headers())
    assert got.status_code == 200 and got.headers["Content-Type"] == "image/jpeg"
    assert made.GPS_IFD not in Image.open(io.BytesIO(await got.get_data())).getexif()  # stored without its GPS


async def test_the_page_shows_the_image_at_its_true_size_and_a_file_as_a_download(app, room, sign_in, tmp_path):
    alices = await sign_in("alice")
    photo = await uploaded(alices, made.png(tmp_path / "chart.png", (1200, 600)))
    report = await uploaded(alices, made.pdf(tmp_path / "report.pdf"))
    assert (await send(alices, room, "", [photo["id"], report["id"]])).status_code == 200
    bobs = await sign_in("bob")
    html = await (await bobs.get(f"/chat/{room.id}")).get_data(as_text=True)
    assert 'width="420" height="210"' in html  # 1200 x 600 fitted, before any thumbnail exists
    assert html.index("chart.png") < html.index("report.pdf")  # in the order sent
    assert f'href="{photo["url"]}"' in html


async def test_a_program_uploads_and_sends_through_rest_and_both_websockets(app, room, tmp_path):
    api = await api_login(app, "alice")
    response = await uploads.api_upload(api, made.pdf(tmp_path / "minutes.pdf"))
    answer = await response.get_json()
    assert response.status_code == 201 and answer["data"]["type"] == "application/pdf", answer
    status, sent, _ = await api.post(f"/api/v1/conversations/{room.id}/messages",
                                     {"attachments": [answer["data"]["id"]]})
    assert status == 201, sent
    assert sent["data"]["text"] == "" and sent["data"]["attachments"][0]["name"] == "minutes.pdf"
    second = await (await uploads.api_upload(api, made.png(tmp_path / "a.png"))).get_json()
    async with json_socket(app) as socket:
        await act(socket, "auth", {"token": api.token})
        answer = await act(socket, "send", {"conversation_id": room.id, "attachments": [second["data"]["id"]]})
        assert answer["data"]["attachments"][0]["name"] == "a.png", answer
    third = await (await uploads.api_upload(api, made.png(tmp_path / "b.png"))).get_json()
    response = await api.raw.post("/api/messenger/message", headers=api.headers(), json={
        "ConversationId": room.id, "Attachments": [third["data"]["id"]]})
    assert response.status_code == 201, await response.get_data(as_text=True)
    assert await Attachment.filter(message_id__isnull=False).count() == 3


async def test_the_form_without_script_sends_its_files_and_text_in_one_post(app, room, sign_in, tmp_path):
    alices = await sign_in("alice")
    form = uploads.body(uploads.part("csrf_token", await alices.token()), uploads.part("body", "both of them"),
                        uploads.file_part(made.png(tmp_path / "one.png")),
                        uploads.file_part(made.pdf(tmp_path / "two.pdf")),
                        uploads.part("file", b"", "", "application/octet-stream"))  # an empty input
    response = await uploads.send(alices.raw, f"/chat/{room.id}/messages", form)
    assert response.status_code == 303, await response.get_data(as_text=True)
    message = await Message.get(body="both of them")
    assert [a.name for a in await Attachment.filter(message_id=message.id).order_by("position")] == [
        "one.png", "two.pdf"]
    assert temp_files(app.config["HUDDLE"]) == []


# --- limits -------------------------------------------------------------------------------------

async def test_a_file_past_the_limit_is_refused_mid_stream_and_nothing_is_kept(app, alice, sign_in, settings):
    alices = await sign_in("alice")
    headers = {"Content-Type": uploads.CONTENT_TYPE, "X-CSRF-Token": await alices.token()}
    async with alices.raw.request("/uploads", method="POST", headers=headers) as connection:
        await connection.send(uploads.part("file", b"", "big.bin")[:-2])  # the part's head, then its bytes
        for _ in range(LIMIT // 65536 + 2):
            await connection.send(b"\0" * 65536)
        # The answer comes while the body is still open: the rest is never read.
        await asyncio.wait_for(connection.receive(), 5)
        assert connection.status_code == 413
        await connection.disconnect()
    answer = json.loads(bytes(connection.response_data) or b"{}") if connection.response_data else None
    assert answer is None or "at most 256 KB" in answer["error"]["message"]
    assert temp_files(settings) == [] and await Blob.all().count() == 0 and await Attachment.all().count() == 0


async def test_a_declared_length_past_what_ten_files_allow_is_refused_before_reading(app, alice, sign_in, settings):
    alices = await sign_in("alice")
    headers = {"Content-Type": uploads.CONTENT_TYPE, "X-CSRF-Token": await alices.token(),
               "Content-Length": str(LIMIT * 10 + 2 * 1024 * 1024)}
    async with alices.raw.request("/uploads", method="POST", headers=headers) as connection:
        answer = await asyncio.wait_for(connection.receive(), 5)  # not a byte of the body sent
        assert connection.status_code == 413 and b"at most 256 KB" in answer
        await connection.disconnect()
    assert temp_files(settings) == []


async def test_the_quota_holds_against_parallel_uploads(app, alice, sign_in, tmp_path):
    lift_posting_limit(app)
    alices = await sign_in("alice")
    paths = [made.random_file(tmp_path / f"part{n}.bin", 200 * 1024) for n in range(6)]
    answers = await asyncio.gather(*(uploads.page_upload(alices, path) for path in paths))
    statuses = sorted(response.status_code for response in answers)
    assert statuses == [201, 201, 201, 413, 413, 413]  # 3 x 200 KB fit in 600 KB, a fourth does not
    refused = [await r.get_json() for r in answers if r.status_code == 413]
    assert "600 KB you may keep" in refused[0]["error"]["message"]
    assert await Attachment.filter(owner_id=alice.id).count() == 3
    assert await Blob.all().count() == 3  # the refused ones were not kept


async def test_uploads_count_in_the_posting_limit(app, alice, sign_in, tmp_path):
    Runtime.of(app).limiters.post_user.limit = 2
    alices = await sign_in("alice")
    path = made.png(tmp_path / "same.png")
    assert [(await uploads.page_upload(alices, path)).status_code for _ in range(3)] == [201, 201, 429]


# --- what a file is, and how it is served ----------------------------------------------------------

async def test_the_type_comes_from_the_bytes_never_the_name_or_the_claim(app, alice, sign_in, tmp_path):
    alices = await sign_in("alice")
    page_as_photo = await uploaded(alices, made.html_page(tmp_path / "x.html"), name="cat.jpg",
                                   content_type="image/jpeg")
    assert page_as_photo["type"] == "text/html" and page_as_photo["width"] is None
    photo_as_text = await uploaded(alices, made.png(tmp_path / "x.png"), name="notes.txt", content_type="text/plain")
    assert photo_as_text["type"] == "image/png" and photo_as_text["width"] == 320


@pytest.mark.parametrize("maker, kind", [(made.svg_with_script, "image/svg+xml"), (made.html_page, "text/html"),
                                         (made.pdf, "application/pdf")])
async def test_markup_and_documents_are_downloads_never_our_page(app, alice, sign_in, tmp_path, maker, kind):
    alices = await sign_in("alice")
    answer = await uploaded(alices, maker(tmp_path / "thing"), name="thing")
    assert answer["type"] == kind
    response = await alices.get(answer["url"])
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")


async def test_a_png_is_shown_inline_with_the_same_guards(app, alice, sign_in, tmp_path):
    alices = await sign_in("alice")
    answer = await uploaded(alices, made.png(tmp_path / "p.png"))
    response = await alices.get(answer["url"])
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["Content-Security-Policy"].startswith("sandbox")


@pytest.mark.parametrize("sent, kept", [
    ('a"b.png', 'a"b.png'), ("../../etc/passwd", "passwd"), ("..\\..\\boot.ini", "boot.ini"),
    ("line\r\nbreak.png", "linebreak.png"), ("evil\u202egnp.exe", "evilgnp.exe"), ("...", "file"), ("..", "file"),
])
async def test_names_never_reach_the_disk_and_download_encoded(app, alice, sign_in, tmp_path, settings, sent, kept):
    alices = await sign_in("alice")
    head = (f'--{uploads.BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8\'\''
            f'{quote(sent, safe="")}\r\n\r\n').encode()
    data = head + made.png(tmp_path / "p.png").read_bytes() + f"\r\n--{uploads.BOUNDARY}--\r\n".encode()
    response = await uploads.send(alices.raw, "/uploads", data, headers={"X-CSRF-Token": await alices.token()})
    answer = await response.get_json()
    assert response.status_code == 201 and answer["name"] == kept, answer
    stored = [p.name for p in (settings.data_dir / "files").rglob("*") if p.is_file()]
    assert stored == [(await Blob.get()).key]  # by its hash, nothing of its name
    got = await alices.get(answer["url"])
    disposition = got.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition.split("filename*")[0]
    assert "filename*=UTF-8''" in disposition


# --- who reads a file -------------------------------------------------------------------------------

async def test_only_who_may_read_the_message_now_gets_its_file(app, room, alice, bob, admin, sign_in, tmp_path):
    alices, bobs, admins = await sign_in("alice"), await sign_in("bob"), await sign_in("admin")
    answer = await uploaded(alices, made.png(tmp_path / "plan.png"))
    url = answer["url"]
    assert (await bobs.get(url)).status_code == 404  # not sent yet: its owner's alone
    assert (await alices.get(url)).status_code == 200
    assert (await send(alices, room, "", [answer["id"]])).status_code == 200
    assert (await bobs.get(url)).status_code == 200
    assert (await admins.get(url)).status_code == 404  # administrators read by the same rule
    assert (await bobs.get(url.replace(answer["token"], answer["token"][:-1] + "x"))).status_code == 404
    async with app.app_context():
        await chat.remove_member(alice, await Conversation.get(id=room.id), bob)
    assert (await bobs.get(url)).status_code == 404  # removed: at once
    message = await Message.get(conversation_id=room.id)
    assert (await alices.post(f"/chat/messages/{message.id}/delete")).status_code == 303
    assert (await alices.get(url)).status_code == 404  # an old URL after its message went


async def test_an_open_rooms_file_is_read_by_everyone_who_may_read_the_room(app, general, sign_in, tmp_path):
    alices, admins = await sign_in("alice"), await sign_in("admin")
    answer = await uploaded(alices, made.png(tmp_path / "x.png"))
    await send(alices, general, "", [answer["id"]])
    assert (await admins.get(answer["url"])).status_code == 200


async def test_an_anonymous_visitor_is_asked_to_log_in(app, alice, sign_in, tmp_path):
    answer = await uploaded(await sign_in("alice"), made.png(tmp_path / "x.png"))
    anonymous = app.test_client()
    assert (await anonymous.get(answer["url"])).status_code == 401
    assert (await anonymous.get(answer["url"], headers={"Accept": "text/html"})).status_code == 401


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("data, status, says", [
    (uploads.body(uploads.part("note", "no file here")), 422, "Choose a file"),
    (uploads.body(uploads.part("file", b"", "empty.txt")), 422, "empty"),
    (uploads.body(uploads.part("file", b"x", "a"), uploads.part("file", b"y", "b")), 422, "one file at a time"),
    (b"--" + uploads.BOUNDARY.encode() + b'\r\nContent-Disposition: form-data; name="file"; filename="cut"\r\n\r\nab',
     422, "could not be read"),
])
async def test_a_bad_upload_says_why_and_keeps_nothing(app, alice, sign_in, settings, data, status, says):
    alices = await sign_in("alice")
    response = await uploads.send(alices.raw, "/uploads", data, headers={"X-CSRF-Token": await alices.token()})
    assert response.status_code == status and says in (await response.get_json())["error"]["message"]
    assert await Attachment.all().count() == 0 and temp_files(settings) == []


async def test_a_streamed_form_without_its_token_is_refused(app, alice, sign_in, tmp_path, settings):
    alices = await sign_in("alice")
    response = await uploads.send(alices.raw, "/uploads", uploads.body(uploads.file_part(made.png(tmp_path / "x.png"))))
    assert response.status_code == 403 and await Attachment.all().count() == 0 and temp_files(settings) == []


async def test_sending_files_that_are_not_mine_to_send_is_refused(app, room, sign_in, tmp_path):
    lift_posting_limit(app)
    alices, bobs = await sign_in("alice"), await sign_in("bob")
    bobs_file = await uploaded(bobs, made.png(tmp_path / "b.png"))
    mine = [await uploaded(alices, made.png(tmp_path / f"{n}.png", (10 + n, 10))) for n in range(11)]
    for ids, says in [([bobs_file["id"]], "not yours"), ([m["id"] for m in mine], "at most 10"),
                      (["x"], "numbers"), ([999999], "not yours")]:
        response = await send(alices, room, "hi", ids)
        assert response.status_code == 422 and says in await response.get_data(as_text=True), ids
    assert (await send(alices, room, "", [mine[0]["id"]])).status_code == 200
    response = await send(alices, room, "again", [mine[0]["id"]])  # sent already
    assert response.status_code == 422 and "not yours" in await response.get_data(as_text=True)
    assert await Message.filter(conversation_id=room.id).count() == 1
    assert (await send(alices, room, "")).status_code == 422  # neither text nor files


async def test_an_unsent_upload_is_taken_back_by_its_owner_only(app, alice, bob, sign_in, tmp_path, settings):
    alices, bobs = await sign_in("alice"), await sign_in("bob")
    answer = await uploaded(alices, made.png(tmp_path / "x.png"))
    headers = lambda token: {"X-CSRF-Token": token}  # noqa: E731
    assert (await bobs.raw.post(answer["remove_url"], headers=headers(await bobs.token()))).status_code == 404
    assert (await alices.raw.post(answer["remove_url"], headers=headers(await alices.token()))).status_code == 204
    assert await Attachment.all().count() == 0 and await Blob.all().count() == 0
    assert [p for p in (settings.data_dir / "files").rglob("*") if p.is_file()] == []


# --- removal ------------------------------------------------------------------------------------

async def test_deleting_a_message_removes_its_files_and_the_blobs_nobody_else_uses(app, room, sign_in, tmp_path,
                                                                                   settings):
    alices, bobs = await sign_in("alice"), await sign_in("bob")
    shared = made.png(tmp_path / "shared.png")
    first = await uploaded(alices, shared)
    own = await uploaded(alices, made.pdf(tmp_path / "own.pdf"))
    again = await uploaded(bobs, shared)  # the same bytes: stored once
    await send(alices, room, "mine", [first["id"], own["id"]])
    await send(bobs, room, "same picture", [again["id"]])
    assert await Blob.all().count() == 2
    message = await Message.get(body="mine")
    assert (await alices.post(f"/chat/messages/{message.id}/delete")).status_code == 303
    assert await Attachment.filter(message_id=message.id).count() == 0
    assert [b.type for b in await Blob.all()] == ["image/png"]  # bob's message still uses it
    stored = {p.name for p in (settings.data_dir / "files").rglob("*") if p.is_file()}
    assert stored == {(await Blob.get()).key} | {k for k in [(await Blob.get()).thumb_key] if k}
    assert (await bobs.get(again["url"])).status_code == 200


async def test_the_sweep_removes_uploads_never_sent_within_a_day(app, alice, sign_in, tmp_path):
    alices = await sign_in("alice")
    old = await uploaded(alices, made.png(tmp_path / "old.png"))
    fresh = await uploaded(alices, made.pdf(tmp_path / "fresh.pdf"))
    await Attachment.filter(id=old["id"]).update(created_at=clock.now() - timedelta(days=1, minutes=1))
    await Blob.filter(type="image/png").update(created_at=clock.now() - timedelta(days=1, minutes=1))
    async with app.app_context():
        assert await files.sweep() == 1
    assert [a.id for a in await Attachment.all()] == [fresh["id"]]
    assert [b.type for b in await Blob.all()] == ["application/pdf"]


# --- previews, live and caught up ---------------------------------------------------------------

async def test_a_thumbnail_made_is_an_edit_that_a_page_catches_up_on_exactly(app, room, sign_in, tmp_path):
    await Runtime.of(app).files.stop()  # the preview is made when this test says
    alices, bobs = await sign_in("alice"), await sign_in("bob")
    photo = await uploaded(alices, made.jpeg(tmp_path / "p.jpg", (1600, 1200)))
    await send(alices, room, "a photo", [photo["id"]])
    message = await Message.get(body="a photo")
    seen = (await Conversation.get(id=room.id)).last_seq
    assert await FileJob.all().count() == 1
    async with page(bobs, room, after=seen) as live:
        async with app.app_context():
            assert await Runtime.of(app).files.work_due() == 1
        pushed_live = await receive_until(live, "files/preview/")
    edited = await Message.get(id=message.id)
    assert edited.version_seq > message.version_seq and (await Blob.get()).preview == "ready"
    # A page that was away (it had everything up to `seen`) replays the same event from the database.
    async with page(bobs, room, after=seen) as away:
        replayed = [m for m in away.replay if "files/preview/" in m]
    assert replayed == [pushed_live]
    api = await api_login(app, "bob")
    status, listing, _ = await api.get(f"/api/v1/conversations/{room.id}/messages")
    thumb = listing["data"]["messages"][0]["attachments"][0]["thumbnail_url"]
    got = await api.raw.get(thumb, headers=api.headers())
    assert got.status_code == 200 and got.headers["Content-Type"] == "image/webp"


async def test_the_upload_is_in_the_openapi_document_and_the_docs_page(app, client):
    document = await (await client.get("/api/v1/openapi.json")).get_json()
    upload = document["paths"]["/api/v1/uploads"]["post"]
    assert upload["operationId"] == "uploadFile" and "multipart/form-data" in upload["requestBody"]["content"]
    assert {"413", "422", "429"} <= set(upload["responses"])
    assert "attachments" in document["components"]["schemas"]["NewMessage"]["properties"]
    html = await (await client.get("/docs/api")).get_data(as_text=True)
    assert "/api/v1/uploads" in html and "multipart/form-data" in html


async def test_a_message_shown_again_or_edited_keeps_its_files(app, room, sign_in, tmp_path):
    alices = await sign_in("alice")
    answer = await uploaded(alices, made.pdf(tmp_path / "agenda.pdf"))
    await send(alices, room, "the agenda", [answer["id"]])
    message = await Message.get(body="the agenda")
    shown = await alices.get(f"/chat/messages/{message.id}", headers={"HX-Request": "true"})
    assert "agenda.pdf" in await shown.get_data(as_text=True)
    edited = await alices.post(f"/chat/messages/{message.id}", {"body": ""}, htmx=True)  # files alone now
    assert edited.status_code == 200 and "agenda.pdf" in await edited.get_data(as_text=True)


async def test_the_form_without_script_keeps_the_text_when_a_file_is_too_large(app, room, sign_in, tmp_path):
    alices = await sign_in("alice")
    form = uploads.body(uploads.part("csrf_token", await alices.token()), uploads.part("body", "my long reply"),
                        uploads.file_part(made.random_file(tmp_path / "big.bin", LIMIT + 1)))
    response = await uploads.send(alices.raw, f"/chat/{room.id}/messages", form)
    page_html = await response.get_data(as_text=True)
    assert response.status_code == 413 and "my long reply" in page_html and "at most 256 KB" in page_html
    assert await Message.filter(conversation_id=room.id).count() == 0


# --- in an S3 bucket ----------------------------------------------------------------------------

@pytest.fixture
async def bucket_app(settings, s3_url):
    """The site with its files in a bucket of moto's real S3 server (HUDDLE_STORAGE_URL=s3://…)."""
    settings.storage_url = s3_url
    app = create_app(settings)
    async with app.test_app():
        yield app


async def test_in_a_bucket_a_file_is_a_short_signed_redirect_given_only_to_who_may_read(bucket_app, tmp_path):
    async with bucket_app.app_context():
        alice, _, _ = await make_user("alice"), await make_user("bob"), await make_user("admin", admin=True)
        room = await chat.create_room(alice, "plans", is_open=False, member_names=["bob"])
    alices, bobs, admins = Client(bucket_app), Client(bucket_app), Client(bucket_app)
    for client, name in ((alices, "alice"), (bobs, "bob"), (admins, "admin")):
        await client.login(name)
    report = await uploaded(alices, made.pdf(tmp_path / "report.pdf"))
    assert (await send(alices, room, "", [report["id"]])).status_code == 200
    got = await bobs.get(report["url"])
    assert got.status_code == 302 and "X-Amz-Signature" in got.headers["Location"]
    assert "attachment" in unquote(got.headers["Location"])  # still a download, not a page
    assert (await admins.get(report["url"])).status_code == 404
    key = (await Blob.get()).key
    storage = Runtime.of(bucket_app).storage
    assert await storage.exists(key)
    message = await Message.get(conversation_id=room.id)
    assert (await alices.post(f"/chat/messages/{message.id}/delete")).status_code == 303
    assert not await storage.exists(key) and (await bobs.get(report["url"])).status_code == 404
