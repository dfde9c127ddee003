"""Link previews: a message's first link gets a pending row in its own transaction (never a fetch on
the request path); the worker (app/links/worker.py, run here by hand with work_due) fetches it with
the real fetcher from a site of our own on 127.0.0.1 (allowed by HUDDLE_PREVIEW_ALLOWED_HOSTS),
copies its image into Huddle's storage, and the message is edited at its next number, so pages and
programs catch up exactly; failures are retried then failed; a refused address is never asked;
its sender alone removes it (every door); an administrator's switch stops new ones; a kill -9
loses nothing; its image survives the sweep and goes with the message."""
from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
from datetime import timedelta

import pytest
from PIL import Image

from app import clock, jobs
from app.chat import events
from app.chat import service as chat
from app.domain import Invalid, NotAllowed, NotFound
from app.files import service as files
from app.links import service as links
from app.links.worker import LinkWorker
from app.models import AuditEvent, Blob, Conversation, Message, hashing
from app.models.links import FAILED, PENDING, READY, REMOVED, LinkPreview, SiteSetting
from app.runtime import Runtime
from tests.helpers import ARGON2_MEMORY_KIB
from tests.helpers.accounts import make_user
from tests.helpers.api import Api, act, api_login, json_socket, pushed
from tests.helpers.jobs import count_claims
from tests.helpers.link_pages import LinkPages, article
from tests.helpers.live import barrier, page
from tests.helpers.postgres import child_main, in_child, pg_site


@pytest.fixture
def pages():
    made = LinkPages().start()
    yield made
    made.close()


@pytest.fixture
def settings(settings, pages):
    """The site may fetch from our little web site (and from nowhere else that is not public)."""
    settings.preview_allowed_hosts = pages.host
    settings.link_previews = True
    return settings


@pytest.fixture
async def app(app):
    """The tests work the queues by hand (work_due), with no loop running beside them."""
    await Runtime.of(app).links.stop()
    await Runtime.of(app).files.stop()
    return app


async def work(app) -> int:
    return await Runtime.of(app).links.work_due()


def later(monkeypatch, seconds: float) -> None:
    moment = clock.now() + timedelta(seconds=seconds)
    monkeypatch.setattr(clock, "now", lambda: moment)


def png_bytes(size=(200, 100)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def linked(pages) -> str:
    """A page with a title, a description, a site name and an image."""
    image = pages.file("/cat.png", png_bytes(), "image/png")
    return pages.page("/cat", article("A cat", "It sits on the mat, all day long.", image, "Cats Weekly"))


async def post(app, who, conversation, text: str) -> Message:
    async with app.app_context():
        return await chat.post(who, conversation, text)


async def html_of(app, message_id: int) -> str:
    async with app.app_context():
        return str(await events.message_html(await Message.get(id=message_id)))


# --- made off the request path ------------------------------------------------------------------------

async def test_a_post_with_a_link_answers_before_any_fetch_with_a_pending_row(app, general, sign_in, pages, linked):
    alices = await sign_in("alice")
    response = await alices.post(f"/chat/{general.id}/messages", {"body": f"look {linked} !"}, htmx=True)
    assert response.status_code == 200
    message = await Message.get(conversation_id=general.id, body=f"look {linked} !")
    row = await LinkPreview.get(message_id=message.id)
    assert (row.state, row.url, row.attempts) == (PENDING, linked, 0) and row.due_at <= clock.now()
    assert pages.asked == []  # nothing fetched yet: the worker has not run
    assert "link-preview" not in await response.get_data(as_text=True)  # pending shows nothing


async def test_only_the_first_link_a_reader_sees_is_previewed(app, general, alice, linked, pages):
    other = pages.url("/other")
    first = await post(app, alice, general, f"`{other}` then {linked} and {other}")
    assert (await LinkPreview.get(message_id=first.id)).url == linked
    for text in ("no link here", "mail me at ada@example.com", f"```\n{linked}\n```", "ftp://example.com/x"):
        message = await post(app, alice, general, text)
        assert not await LinkPreview.exists(message_id=message.id), text


async def test_the_worker_makes_it_ready_and_the_message_is_edited_live_at_a_higher_number(
        app, client, general, alice, linked, pages):
    message = await post(app, alice, general, f"see {linked}")
    await client.login("bob")
    async with page(client, await Conversation.get(id=general.id)) as bobs:
        assert await work(app) == 1
        live = await barrier(bobs)
    row = await LinkPreview.get(message_id=message.id)
    assert (row.state, row.title, row.description, row.site) == (
        READY, "A cat", "It sits on the mat, all day long.", "Cats Weekly")
    assert pages.asked == ["/cat", "/cat.png"]
    after = await Message.get(id=message.id)
    assert after.version_seq > message.version_seq == message.seq
    assert after.version_seq == (await Conversation.get(id=general.id)).last_seq
    assert len(live) == 1 and f'id="message-{message.id}"' in live[0]
    assert f'data-version="{after.version_seq}"' in live[0]
    title = f'<a class="link-preview-title" href="{linked}" rel="noopener noreferrer nofollow ugc" target="_blank">'
    assert title + "A cat</a>" in live[0]
    assert "Cats Weekly" in live[0] and "It sits on the mat" in live[0]
    assert await work(app) == 0  # done once


async def test_a_reconnecting_page_and_program_get_the_message_with_its_preview(
        app, client, general, alice, bob, linked):
    message = await post(app, alice, general, f"see {linked}")
    cursor = (await Conversation.get(id=general.id)).last_seq
    await work(app)  # while they are away
    await client.login("bob")
    async with page(client, await Conversation.get(id=general.id), after=cursor) as bobs:
        replay = "".join(bobs.replay)
    assert replay.count(f'id="message-{message.id}"') == 1 and "A cat</a>" in replay
    api = await api_login(app, "bob")
    async with json_socket(app) as socket:
        await act(socket, "auth", {"token": api.token})
        await socket.send(json.dumps({"action": "subscribe", "data": {"conversations": {str(general.id): cursor}}}))
        edited = await pushed(socket, "message.edited")
    assert edited["data"]["id"] == message.id and edited["data"]["preview"] == {
        "url": linked, "title": "A cat", "description": "It sits on the mat, all day long.", "site": "Cats Weekly",
        "image": f"/api/v1/messages/{message.id}/preview/image"}


async def test_the_image_is_copied_into_huddle_and_served_by_huddle_only(app, general, alice, sign_in, pages, linked):
    message = await post(app, alice, general, f"see {linked}")
    await work(app)
    row = await LinkPreview.get(message_id=message.id).select_related("image")
    served = pages.answers["/cat.png"][2]
    assert row.image.type == "image/png" and row.image.key == hashlib.sha256(served).hexdigest()
    card = re.search(r'<img class="link-preview-image" src="([^"]+)"[^>]*>', await html_of(app, message.id))
    assert card.group(1).startswith(f"/chat/messages/{message.id}/preview/image") and "127.0.0.1" not in card.group(0)
    assert 'width="120" height="60"' in card.group(0)  # its box, so nothing moves when it loads
    bobs = await sign_in("bob")
    response = await bobs.get(card.group(1).replace("&amp;", "&"))
    assert response.status_code == 200 and await response.get_data() == served
    assert response.headers["Content-Type"] == "image/png"
    api = await api_login(app, "bob")
    got = await api.raw.get(f"/api/v1/messages/{message.id}/preview/image", headers=api.headers())
    assert got.status_code == 200 and await got.get_data() == served
    # Its thumbnail (the file job) is made, and the message shows it at its next number.
    version = (await Message.get(id=message.id)).version_seq
    assert await Runtime.of(app).files.work_due() == 1
    assert (await Message.get(id=message.id)).version_seq > version
    thumb = await bobs.get(f"/chat/messages/{message.id}/preview/image")
    assert thumb.headers["Content-Type"] == "image/webp"


async def test_an_image_that_is_not_a_picture_we_show_is_left_out(app, general, alice, pages):
    svg = pages.file("/x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                     "image/svg+xml")
    html = pages.page("/page.png", b"<html><body>not a png</body></html>")
    dressed = pages.file("/fake.png", b"<html><body>not a png</body></html>", "image/png")
    for image in (svg, html, dressed):
        link = pages.page(f"/p{len(pages.answers)}", article("Shapes", "Some shapes.", image))
        message = await post(app, alice, general, link)
        await work(app)
        row = await LinkPreview.get(message_id=message.id)
        assert row.state == READY and row.image_id is None
    assert await Blob.all().count() == 0


async def test_a_title_with_markup_is_shown_as_text(app, general, alice, pages):
    link = pages.page("/evil", article("&lt;script&gt;alert(1)&lt;/script&gt; <b>bold</b>",
                                       "&lt;img src=x onerror=alert(1)&gt;"))
    message = await post(app, alice, general, link)
    await work(app)
    html = await html_of(app, message.id)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


async def test_a_page_that_fails_is_tried_again_then_failed_and_nothing_is_shown(
        app, general, alice, pages, monkeypatch, caplog):
    link = pages.page("/down", b"<html><head><title>Oops</title></head></html>", status=500)
    message = await post(app, alice, general, link)
    for attempt in range(1, jobs.MAX_ATTEMPTS):
        assert await work(app) == 1
        row = await LinkPreview.get(message_id=message.id)
        assert (row.state, row.attempts, row.claimed_until) == (PENDING, attempt, None)
        assert await work(app) == 0  # not due until the backoff is over
        later(monkeypatch, jobs.backoff(attempt) + 1)
    assert await work(app) == 1
    assert (await LinkPreview.get(message_id=message.id)).state == FAILED
    assert pages.asked == ["/down"] * jobs.MAX_ATTEMPTS
    assert (await Message.get(id=message.id)).version_seq == message.version_seq  # nothing shown: no number
    assert "link-preview" not in await html_of(app, message.id)
    assert f"link preview {(await LinkPreview.get(message_id=message.id)).id}" in caplog.text


async def test_an_address_the_fetcher_may_not_reach_fails_at_once_and_is_never_asked(app, general, alice, caplog):
    elsewhere = LinkPages().start()  # on 127.0.0.1 too, but not allowed
    try:
        link = elsewhere.page("/secret", article("Internal admin", "Nobody outside should see this."))
        message = await post(app, alice, general, link)
        assert await work(app) == 1
        row = await LinkPreview.get(message_id=message.id)
        assert row.state == FAILED and row.attempts == 0 and elsewhere.asked == []
        assert "refused" in caplog.text and "Nobody outside" not in caplog.text
    finally:
        elsewhere.close()


async def test_an_image_on_an_address_the_fetcher_may_not_reach_is_left_out_and_never_asked(
        app, general, alice, pages):
    elsewhere = LinkPages().start()
    try:
        image = elsewhere.file("/inside.png", png_bytes(), "image/png")
        message = await post(app, alice, general, pages.page("/peek", article("Peek", "A look inside.", image)))
        await work(app)
        row = await LinkPreview.get(message_id=message.id)
        assert (row.state, row.title, row.image_id) == (READY, "Peek", None) and elsewhere.asked == []
        assert "link-preview-image" not in await html_of(app, message.id)
    finally:
        elsewhere.close()


# --- edits and deletion ---------------------------------------------------------------------------------

async def test_an_edit_keeps_replaces_or_removes_the_preview(app, general, alice, linked, pages):
    message = await post(app, alice, general, f"see {linked}")
    await work(app)
    async with app.app_context():
        message = await chat.edit(alice, await Message.get(id=message.id), f"see {linked} (great)")
        assert (await LinkPreview.get(message_id=message.id)).state == READY  # the same link: kept
        other = pages.page("/dog", article("A dog"))
        message = await chat.edit(alice, message, f"no, {other}")
        row = await LinkPreview.get(message_id=message.id)
        assert (row.state, row.url) == (PENDING, other)
        assert await Blob.all().count() == 0  # the cat's image went with its preview
        await chat.edit(alice, message, "never mind")
    assert not await LinkPreview.exists(message_id=message.id)


async def test_deleting_the_message_removes_its_preview_and_releases_its_image(app, general, alice, linked):
    message = await post(app, alice, general, f"see {linked}")
    await work(app)
    blob = (await LinkPreview.get(message_id=message.id).select_related("image")).image
    async with app.app_context():
        await chat.delete(alice, await Message.get(id=message.id))
    assert not await LinkPreview.exists(message_id=message.id)
    assert not await Blob.exists(id=blob.id)
    assert not await Runtime.of(app).storage.exists(blob.key)


async def test_the_sweep_never_removes_an_image_a_preview_shows(app, general, alice, linked):
    message = await post(app, alice, general, f"see {linked}")
    await work(app)
    row = await LinkPreview.get(message_id=message.id)
    await Blob.filter(id=row.image_id).update(created_at=clock.now() - timedelta(days=3))
    async with app.app_context():
        await files.sweep()
        await files.release([row.image_id])
    assert await Blob.exists(id=row.image_id)


async def test_a_worker_killed_mid_job_loses_nothing(app, settings, general, alice, linked, monkeypatch):
    message = await post(app, alice, general, f"see {linked}")
    dead = LinkWorker(settings)
    (job,), claim = await dead._claim()  # claimed, then the process is killed
    assert job["message_id"] == message.id
    assert await work(app) == 0  # claimed by the dead one for a minute
    later(monkeypatch, 61)
    assert await work(app) == 1
    assert (await LinkPreview.get(message_id=message.id)).state == READY
    version = (await Message.get(id=message.id)).version_seq
    # Were the "dead" worker only slow, its late finish would find its claim gone: nothing changes.
    assert not await dead._finish(job, claim, FAILED)
    assert (await LinkPreview.get(message_id=message.id)).state == READY
    assert (await Message.get(id=message.id)).version_seq == version


def test_two_workers_on_one_postgresql_database_make_each_preview_once(pg_database, tmp_path):
    result = in_child("tests.test_link_previews", pg_database, str(tmp_path))
    assert result["ready"] == 12 and len(result["claimed"]) == len(set(result["claimed"])) == 12
    assert result["asked"] == 12 and min(result["by_worker"]) > 0, result  # each page fetched once; both took part
    assert len(set(result["versions"])) == 12  # each message its own next number


async def _two_workers_on_postgresql(url: str, data_dir: str) -> dict:
    hashing.configure(ARGON2_MEMORY_KIB)
    pages = LinkPages().start()
    claimed, by_worker = count_claims(LinkWorker)
    try:
        async with pg_site(url, data_dir, preview_allowed_hosts=pages.host, posts_per_10_seconds=100) as app:
            one = Runtime.of(app).links
            await one.stop()
            two = LinkWorker(Runtime.of(app).settings)
            ada = await make_user("ada")
            room = await chat.create_room(ada, "links")
            for n in range(12):
                await chat.post(ada, room, pages.page(f"/{n}", article(f"Page {n}")))
            while sum(await asyncio.gather(one.work_due(), two.work_due())):
                pass
            ready = await LinkPreview.filter(state=READY).count()
            versions = await Message.filter(conversation_id=room.id).values_list("version_seq", flat=True)
    finally:
        pages.close()
    by_worker = list(by_worker.values()) + [0] * (2 - len(by_worker))
    return {"claimed": claimed, "by_worker": by_worker, "ready": ready, "versions": versions,
            "asked": len(pages.asked)}


# --- its sender removes it ------------------------------------------------------------------------------

@pytest.fixture
async def previewed(app, general, alice, linked) -> Message:
    message = await post(app, alice, general, f"see {linked}")
    await work(app)
    return await Message.get(id=message.id)


async def removed(message: Message) -> bool:
    row = await LinkPreview.get(message_id=message.id)
    return row.state == REMOVED and row.image_id is None and row.title is None


async def test_the_sender_removes_it_from_the_page_with_htmx(app, previewed, sign_in, client, general):
    await client.login("bob")
    async with page(client, await Conversation.get(id=general.id)) as bobs:
        alices = await sign_in("alice")
        response = await alices.post(f"/chat/messages/{previewed.id}/preview/remove", htmx=True)
        live = await barrier(bobs)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and f'id="message-{previewed.id}"' in html and "link-preview" not in html
    assert await removed(previewed) and await Blob.all().count() == 0
    assert (await Message.get(id=previewed.id)).version_seq > previewed.version_seq
    assert len(live) == 1 and "link-preview" not in live[0]  # the other person sees it go


async def test_without_a_script_the_cross_submits_the_pages_form_and_comes_back(app, previewed, general, sign_in):
    alices = await sign_in("alice")
    page_html = await (await alices.get(f"/chat/{general.id}")).get_data(as_text=True)
    cross = re.search(r'<button type="submit" class="link-preview-remove"[^>]*>', page_html).group(0)
    assert 'form="reaction-form"' in cross and f'formaction="/chat/messages/{previewed.id}/preview/remove"' in cross
    assert "csrf" not in cross  # one render for everyone: the token is the page's
    response = await alices.post(f"/chat/messages/{previewed.id}/preview/remove")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/messages/{previewed.id}")
    assert await removed(previewed)


async def test_the_sender_removes_it_by_rest_and_it_is_never_fetched_again(app, previewed, alice, pages):
    api = await api_login(app, "alice")
    status, body, _ = await api.delete(f"/api/v1/messages/{previewed.id}/preview")
    assert status == 200 and body["data"]["preview"] is None and body["data"]["version"] > previewed.version_seq
    assert await removed(previewed)
    status, again, _ = await api.delete(f"/api/v1/messages/{previewed.id}/preview")  # nothing left: nothing changes
    assert status == 200 and again["data"]["version"] == body["data"]["version"]
    async with app.app_context():  # the same link again, or another: still removed
        await chat.edit(alice, await Message.get(id=previewed.id), f"{pages.url('/dog')} instead")
    assert await removed(previewed) and await work(app) == 0


async def test_the_sender_removes_it_by_the_socket_and_programs_hear_the_edit(app, previewed, bob):
    alice_api, bob_api = await api_login(app, "alice"), await api_login(app, "bob")
    async with json_socket(app) as alices, json_socket(app) as bobs:
        await act(alices, "auth", {"token": alice_api.token})
        await act(bobs, "auth", {"token": bob_api.token})
        answer = await act(alices, "unpreview", {"message_id": previewed.id})
        assert answer["data"]["preview"] is None
        heard = await pushed(bobs, "message.edited")
        assert heard["data"]["id"] == previewed.id and heard["data"]["preview"] is None
        refused = await act(bobs, "unpreview", {"message_id": previewed.id})
        assert refused["error"] and "sender" in refused["error"]
        refused = await act(alices, "unpreview", {"message_id": "x"})
        assert "message_id" in refused["fields"]
    assert await removed(previewed)


async def test_a_preview_removed_before_it_is_fetched_is_never_fetched(app, general, alice, pages, linked):
    message = await post(app, alice, general, f"see {linked}")
    async with app.app_context():
        await links.remove(alice, message.id)
    assert await removed(message) and await work(app) == 0 and pages.asked == []


async def test_nobody_but_its_sender_removes_it_administrators_neither(app, previewed, sign_in):
    for who in ("bob", "admin"):
        response = await (await sign_in(who)).post(f"/chat/messages/{previewed.id}/preview/remove", htmx=True)
        assert response.status_code == 403
        status, body, _ = await (await api_login(app, who)).delete(f"/api/v1/messages/{previewed.id}/preview")
        assert status == 403 and "sender" in body["error"]["message"]
    assert (await LinkPreview.get(message_id=previewed.id)).state == READY


async def test_where_one_may_not_read_there_is_no_preview_to_remove_nor_image(app, alice, bob, sign_in, pages, linked):
    async with app.app_context():
        secret = await chat.create_room(alice, "secret", is_open=False)
        message = await chat.post(alice, secret, f"between us {linked}")
    await work(app)
    bobs = await sign_in("bob")
    assert (await bobs.post(f"/chat/messages/{message.id}/preview/remove")).status_code == 404
    assert (await bobs.get(f"/chat/messages/{message.id}/preview/image")).status_code == 404
    status, _, _ = await (await api_login(app, "bob")).delete(f"/api/v1/messages/{message.id}/preview")
    assert status == 404
    status, _, _ = await Api(app).delete(f"/api/v1/messages/{message.id}/preview")
    assert status == 401
    with pytest.raises(NotFound):
        async with app.app_context():
            await links.remove(bob, message.id)
    assert (await LinkPreview.get(message_id=message.id)).state == READY


async def test_the_service_says_who_may_remove_it(app, previewed, alice, bob, admin):
    async with app.app_context():
        for other in (bob, admin):
            with pytest.raises(NotAllowed):
                await links.remove(other, previewed.id)
        with pytest.raises(NotFound):
            await links.remove(alice, previewed.id + 1000)
        message = await links.remove(alice, previewed.id)
    assert message.version_seq > previewed.version_seq


async def test_an_archived_rooms_preview_stays(app, alice, bob, linked):
    async with app.app_context():
        room = await chat.create_room(alice, "old")
        message = await chat.post(alice, room, linked)
    await work(app)
    async with app.app_context():
        await chat.change_room(alice, room, archived=True)
        with pytest.raises(Invalid) as refused:
            await links.remove(alice, message.id)
    assert "preview" in refused.value.errors and (await LinkPreview.get(message_id=message.id)).state == READY


@pytest.mark.parametrize("path", ["/chat/messages/0/preview/remove", "/chat/messages/99999/preview/remove"])
async def test_a_message_that_is_not_there_is_404(app, general, sign_in, path):
    assert (await (await sign_in("alice")).post(path)).status_code == 404


# --- the site's switch ----------------------------------------------------------------------------------

async def test_an_administrator_turns_previews_off_and_on_audited(app, general, alice, sign_in, linked):
    admins = await sign_in("admin")
    page_html = await (await admins.get("/admin/users")).get_data(as_text=True)
    assert "Link previews are <strong>on</strong>" in page_html
    response = await admins.post("/admin/link-previews", {"previews": "off"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/users#link-previews")
    assert (await SiteSetting.get(key="link_previews")).value == "off"
    message = await post(app, alice, general, f"see {linked}")
    assert not await LinkPreview.exists(message_id=message.id)
    await admins.post("/admin/link-previews", {"previews": "on"})
    message = await post(app, alice, general, f"again {linked}")
    assert await LinkPreview.exists(message_id=message.id)
    actions = await AuditEvent.filter(action__startswith="link_previews").order_by("id").values_list("action",
                                                                                                   flat=True)
    assert actions == ["link_previews.off", "link_previews.on"]
    audit = await (await admins.get("/admin/audit")).get_data(as_text=True)
    assert "admin turned link previews off." in audit


async def test_the_sites_configuration_turns_previews_off_whatever_the_admin_page_says(app, settings, general, alice,
                                                                                       sign_in, linked):
    settings.link_previews = False  # HUDDLE_LINK_PREVIEWS=off
    page_html = await (await (await sign_in("admin")).get("/admin/users")).get_data(as_text=True)
    assert "off</strong> in this site's configuration" in page_html and "Turn link previews on" not in page_html
    message = await post(app, alice, general, f"see {linked}")
    assert not await LinkPreview.exists(message_id=message.id)


async def test_turning_previews_off_keeps_those_shown(app, previewed, admin, sign_in):
    async with app.app_context():
        await links.set_enabled(admin, False)
    assert "link-preview" in await html_of(app, previewed.id)


async def test_only_administrators_turn_previews_off(app, alice, sign_in):
    response = await (await sign_in("alice")).post("/admin/link-previews", {"previews": "off"})
    assert response.status_code == 403
    with pytest.raises(NotAllowed):
        async with app.app_context():
            await links.set_enabled(alice, False)
    assert not await SiteSetting.exists(key="link_previews")


@pytest.mark.parametrize("form", [{}, {"previews": "maybe"}, {"previews": "OFF"}])
async def test_the_switch_says_what_is_wrong(app, admin, sign_in, form):
    response = await (await sign_in("admin")).post("/admin/link-previews", form)
    assert response.status_code == 422 and "Choose on or off" in await response.get_data(as_text=True)
    assert not await SiteSetting.exists(key="link_previews")


async def test_the_api_documents_previews(app, client):
    document = await (await client.get("/api/v1/openapi.json")).get_json()
    remove = document["paths"]["/api/v1/messages/{message_id}/preview"]["delete"]
    assert remove["operationId"] == "removeLinkPreview" and {"403", "404", "422"} <= set(remove["responses"])
    assert document["paths"]["/api/v1/messages/{message_id}/preview/image"]["get"]["operationId"] == \
        "getLinkPreviewImage"
    assert "preview" in document["components"]["schemas"]["Message"]["properties"]
    assert set(document["components"]["schemas"]["LinkPreview"]["properties"]) == {
        "url", "title", "description", "site", "image"}
    html = await (await client.get("/docs/api")).get_data(as_text=True)
    assert "/api/v1/messages/{message_id}/preview" in html and "<code>unpreview</code>" in html


if __name__ == "__main__":
    child_main(_two_workers_on_postgresql)
