"""Files in real Chromium against a real server: attached by the paperclip (several at once), by
dropping them on the conversation and by pasting an image; each upload's progress shown on its
chip, which can be removed before sending; a refusal (too large) said on the chip with the text
kept. The other person sees the image at once in a box of its true size, and its thumbnail takes
that very box when it is made, live and after a reconnect; on a phone everything fits; axe finds
nothing serious.

Previews are held while a test needs the placeholder: a trigger on the server's database marks
each new preview job as claimed by someone else, so the server's own worker leaves it; the test
then makes it with the worker's `work_due()` in a process of its own on the same site, announced
through the site's Redis like any other worker's (no sleeps, no race with the server's worker)."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import sqlite3
import threading

import pytest
from playwright.sync_api import expect

from tests.helpers import files as made
from tests.helpers.browser import check_accessibility, in_a_new_room, screenshot, signed_in
from tests.helpers.redis import URL as REDIS
from tests.helpers.redis import prefix as redis_prefix
from tests.helpers.server import served
from tests.helpers.services import missing

pytestmark = pytest.mark.browser

LIMIT = 1_000_000  # bytes a file may have here (HUDDLE_UPLOAD_MAX_BYTES)
UPLOADS = re.compile(r".*/uploads$")
PHONE = {"viewport": {"width": 360, "height": 640}, "has_touch": True, "is_mobile": True}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A site with Redis as its broker, so a preview made by another process reaches its pages."""
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        missing(f"Redis is not reachable at {REDIS}: {error}")
    yield from served(tmp_path_factory, "files", HUDDLE_POSTS_PER_10_SECONDS="1000",
                      HUDDLE_UPLOAD_MAX_BYTES=str(LIMIT), HUDDLE_BROKER_URL=REDIS, HUDDLE_REDIS_PREFIX=redis_prefix())


# --- the preview worker, held and run by the test ---------------------------------------------------

HOLD = ("CREATE TRIGGER IF NOT EXISTS test_hold_previews AFTER INSERT ON file_jobs BEGIN "
        "UPDATE file_jobs SET claimed_until = '9999-12-31 00:00:00+00:00' WHERE id = NEW.id; END")


@contextlib.contextmanager
def previews_held(server):
    """New preview jobs wait (claimed, as far as the server's worker can tell) until the block ends."""
    with contextlib.closing(sqlite3.connect(server.data_dir / "huddle.db")) as db, db:
        db.execute(HOLD)
    try:
        yield
    finally:
        with contextlib.closing(sqlite3.connect(server.data_dir / "huddle.db")) as db, db:
            db.execute("DROP TRIGGER IF EXISTS test_hold_previews")


def make_previews(server) -> int:
    """Release the held jobs and do them now: FileWorker.work_due() on the server's own site (its
    database, storage and Redis), in a thread with an event loop of its own (Playwright's runs here)."""
    with contextlib.closing(sqlite3.connect(server.data_dir / "huddle.db")) as db, db:
        db.execute("UPDATE file_jobs SET claimed_until = NULL WHERE claimed_until LIKE '9999-%'")

    async def work() -> int:
        from app.__main__ import site
        from app.config import Settings
        from app.runtime import runtime

        env = server.env
        settings = Settings(data_dir=server.data_dir, database_url="", broker_url=env["HUDDLE_BROKER_URL"],
                            redis_prefix=env["HUDDLE_REDIS_PREFIX"], base_url=server.url,
                            upload_max_bytes=LIMIT)
        async with site(settings):
            return await runtime().files.work_due()

    done: list = []
    thread = threading.Thread(target=lambda: done.append(asyncio.run(work())))
    thread.start()
    thread.join(60)
    assert done, "the preview worker did not finish"
    return done[0]


# --- pages -----------------------------------------------------------------------------------------

def composer(page):
    return page.get_by_role("textbox", name="Message", exact=True)


def chips(page):
    return page.locator("#conversation form [data-attach-chips] > li")


def pick(page, *paths) -> None:
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach files").click()
    assert chooser.value.is_multiple()
    chooser.value.set_files([str(path) for path in paths])


def as_file(path, media_type: str) -> dict:
    return {"name": path.name, "type": media_type, "data": base64.b64encode(path.read_bytes()).decode()}


# A DataTransfer holding real files, as the browser makes one for a drag from the desktop or a paste.
TRANSFER = """files => {
    const transfer = new DataTransfer();
    for (const file of files) {
        const bytes = Uint8Array.from(atob(file.data), c => c.charCodeAt(0));
        transfer.items.add(new File([bytes], file.name, {type: file.type}));
    }
    return transfer;
}"""


def drag_over(page, files: list[dict]) -> None:
    page.evaluate(f"""files => {{
        const transfer = ({TRANSFER})(files);
        const target = document.querySelector("#conversation [data-messages]");
        for (const type of ["dragenter", "dragover"])
            target.dispatchEvent(new DragEvent(type, {{bubbles: true, cancelable: true, dataTransfer: transfer}}));
        window.testTransfer = transfer;
    }}""", files)


def drop(page) -> None:
    page.evaluate("""() => document.querySelector("#conversation [data-messages]").dispatchEvent(
        new DragEvent("drop", {bubbles: true, cancelable: true, dataTransfer: window.testTransfer}))""")


def paste(page, files: list[dict]) -> bool:
    """Paste into the composer's box; whether the page took it (the default was prevented)."""
    return page.evaluate(f"""files => {{
        const clipboardData = ({TRANSFER})(files);
        const event = new ClipboardEvent("paste", {{bubbles: true, cancelable: true, clipboardData}});
        return !document.querySelector("#conversation [data-composer] textarea").dispatchEvent(event);
    }}""", files)


def box(locator) -> dict:
    found = locator.bounding_box()
    return {key: round(value, 1) for key, value in found.items()}


# --- tests -----------------------------------------------------------------------------------------

def test_files_picked_show_progress_can_be_removed_and_go_with_the_text(server, new_context, tmp_path):
    (ana, bo) = in_a_new_room(server, new_context, "fl_ana", "fl_bo")
    photo = made.png(tmp_path / "harbour.png", (640, 480))
    report = made.pdf(tmp_path / "report.pdf")
    notes = tmp_path / "notes.txt"
    notes.write_text("call the harbour master\n")
    held = []
    ana.route(UPLOADS, lambda route: held.append(route) if route.request.method == "POST" else route.continue_())
    composer(ana).fill("Photos from the harbour")
    pick(ana, photo, report, notes)

    # Each file a chip at once: its name, its size, a progress bar while it goes.
    expect(chips(ana)).to_have_count(3)
    expect(chips(ana).nth(0)).to_contain_text("harbour.png")
    expect(chips(ana).nth(1)).to_contain_text("report.pdf")
    expect(chips(ana).nth(2)).to_contain_text("24 Bytes")
    expect(ana.get_by_role("progressbar", name="Uploading harbour.png")).to_be_visible()
    expect(chips(ana).locator("progress")).to_have_count(3)
    # Sending while they upload waits: nothing leaves, nothing typed is lost.
    composer(ana).press("Enter")
    expect(ana.locator("[data-composer-error]")).to_contain_text("Wait until the files are uploaded")
    expect(composer(ana)).to_have_value("Photos from the harbour")
    for route in held:
        route.continue_()
    ana.unroute(UPLOADS)
    expect(chips(ana).locator("progress")).to_have_count(0)
    expect(ana.locator("#conversation form [data-attach-chips] > li[data-attach-id]")).to_have_count(3)

    # Removed before sending: its chip goes, the focus stays in the composer's files.
    with ana.expect_response(lambda r: "/remove" in r.url) as removed:
        ana.get_by_role("button", name="Remove notes.txt").click()
    assert removed.value.status == 204
    expect(chips(ana)).to_have_count(2)
    composer(ana).press("Enter")
    expect(composer(ana)).to_have_value("")
    expect(chips(ana)).to_have_count(0)

    # Both pages: the text, the image in a box of its true size (640 x 480 fits 420 x 280 as
    # 373 x 280), the PDF as a card to download; not the removed file.
    for page in (ana, bo):
        message = page.locator("article.message:not(.pending)", has_text="Photos from the harbour")
        expect(message).to_be_visible()
        image = message.locator(".attachment-image")
        expect(image.locator("a")).to_have_attribute("href", re.compile(r"/files/[\w-]+/harbour\.png$"))
        shown = image.locator("svg.attachment-box")
        expect(shown).to_have_attribute("width", "373")
        expect(shown).to_have_attribute("height", "280")
        # (Both previews made meanwhile, each a new version swapped in: the box stays.)
        expect(image.locator("img")).to_be_visible()
        expect(message.locator(".attachment-file img.attachment-page")).to_be_visible()
        assert box(shown)["width"] == 373 and box(shown)["height"] == 280
        card = message.locator(".attachment-file a")
        expect(card).to_contain_text("report.pdf")
        expect(card).to_contain_text("PDF")
        expect(card).to_have_attribute("download", "report.pdf")
        expect(message).not_to_contain_text("notes.txt")
    check_accessibility(bo)


def test_a_dropped_file_and_a_pasted_image_attach_like_picked_ones(server, new_context, tmp_path):
    (cy,) = in_a_new_room(server, new_context, "fl_cy")
    dropped = as_file(made.jpeg(tmp_path / "dropped.jpg", (300, 200), gps=False), "image/jpeg")
    drag_over(cy, [dropped])
    expect(cy.locator("#conversation")).to_have_class(re.compile(r"\bdrop-files\b"))  # it says where to drop
    drop(cy)
    expect(cy.locator("#conversation")).not_to_have_class(re.compile(r"\bdrop-files\b"))
    expect(chips(cy)).to_have_count(1)
    expect(chips(cy).first).to_contain_text("dropped.jpg")
    expect(cy.locator("#conversation form [data-attach-chips] > li[data-attach-id]")).to_have_count(1)

    # A screenshot pasted into the box; text pasted stays text.
    pasted = as_file(made.png(tmp_path / "image.png", (200, 120)), "image/png")
    assert paste(cy, [pasted]) is True
    expect(chips(cy)).to_have_count(2)
    expect(cy.locator("#conversation form [data-attach-chips] > li[data-attach-id]")).to_have_count(2)
    assert cy.evaluate("""() => {
        const transfer = new DataTransfer();
        transfer.setData("text/plain", "just words");
        const event = new ClipboardEvent("paste", {bubbles: true, cancelable: true, clipboardData: transfer});
        return document.querySelector("#conversation [data-composer] textarea").dispatchEvent(event);
    }""") is True  # not prevented: the browser pastes it as ever

    # Files alone make a message (no text needed).
    composer(cy).press("Enter")
    message = cy.locator("article.message:not(.pending)").last
    expect(message.locator(".attachment-image")).to_have_count(2)
    expect(message.locator(".message-body")).to_be_hidden()
    expect(message.locator(".attachment-image svg").first).to_have_attribute("width", "300")


def test_ten_files_a_message_and_a_refused_send_keeps_its_files_and_text(server, new_context, tmp_path):
    (mo,) = in_a_new_room(server, new_context, "fl_mo")
    notes = []
    for number in range(12):
        notes.append(tmp_path / f"note-{number:02}.txt")
        notes[-1].write_text(f"note {number}\n")
    pick(mo, *notes)
    expect(chips(mo).filter(has=mo.locator(".attach-chip-name"))).to_have_count(10)
    expect(chips(mo).last.get_by_role("alert")).to_have_text("Up to 10 files a message: 2 were left out.")
    expect(mo.locator("#conversation form [data-attach-chips] > li[data-attach-id]")).to_have_count(10)
    chips(mo).last.get_by_role("button", name="Dismiss").click()
    expect(chips(mo)).to_have_count(10)

    # A send the server refuses (a text too long): the text back in the box, the files back as chips.
    composer(mo).fill("x" * 4001)
    composer(mo).press("Enter")
    expect(mo.locator("[data-composer-error]")).to_be_visible()
    expect(composer(mo)).to_have_value("x" * 4001)
    expect(mo.locator("#conversation form [data-attach-chips] > li[data-attach-id]")).to_have_count(10)
    expect(mo.locator("article.message")).to_have_count(0)
    composer(mo).fill("ten notes")
    composer(mo).press("Enter")
    message = mo.locator("article.message:not(.pending)", has_text="ten notes")
    expect(message.locator(".attachment-file")).to_have_count(10)
    expect(message.locator(".attachment-file").first).to_contain_text("note-00.txt")
    expect(message.locator(".attachment-file").first).to_contain_text("TXT")
    expect(chips(mo)).to_have_count(0)


def test_a_heic_photo_opens_converted(server, new_context, tmp_path):
    (ned,) = in_a_new_room(server, new_context, "fl_ned")
    with previews_held(server):
        pick(ned, made.heic(tmp_path / "IMG_0001.HEIC", (800, 600)))
        expect(ned.locator("#conversation form [data-attach-chips] > li[data-attach-id]")).to_have_count(1)
        composer(ned).fill("from my phone")
        composer(ned).press("Enter")
        frame = ned.locator("article.message:not(.pending)", has_text="from my phone").locator(".attachment-frame")
        expect(frame.locator("svg.attachment-placeholder")).to_have_attribute("width", "373")
        # Not converted yet: the link is the original, a download (browsers cannot show HEIC).
        expect(frame).to_have_attribute("href", re.compile(r"/IMG_0001\.HEIC$"))
        assert make_previews(server) == 1
    expect(frame.locator("img")).to_be_visible()
    expect(frame).to_have_attribute("href", re.compile(r"/large/[\w-]+\.webp$"))  # the converted photo
    with ned.context.expect_page() as opened:
        frame.click()
    opened.value.wait_for_load_state()
    assert opened.value.evaluate("document.images[0].naturalWidth") == 800


def test_a_file_too_large_is_refused_on_its_chip_and_the_text_stays(server, new_context, tmp_path):
    (di,) = in_a_new_room(server, new_context, "fl_di")
    big = made.random_file(tmp_path / "backup.bin", LIMIT + 200_000)
    composer(di).fill("the backup, as promised")
    with di.expect_response(UPLOADS) as answer:
        pick(di, big)
    assert answer.value.status == 413
    chip = chips(di).first
    expect(chip.get_by_role("alert")).to_contain_text(re.compile(r"larger|large|limit", re.IGNORECASE))
    expect(chip.locator("progress")).to_have_count(0)
    expect(composer(di)).to_have_value("the backup, as promised")
    # The refused file goes nowhere: the text is sent alone, the chip stays until dismissed.
    composer(di).press("Enter")
    expect(di.locator("article.message:not(.pending)", has_text="the backup, as promised")).to_be_visible()
    expect(di.locator("article.message .attachments")).to_have_count(0)
    chip.get_by_role("button", name="Remove backup.bin").click()
    expect(chips(di)).to_have_count(0)


def test_the_other_person_sees_the_image_at_its_size_and_the_thumbnail_takes_that_box(server, new_context, tmp_path):
    (eve, fin) = in_a_new_room(server, new_context, "fl_eve", "fl_fin")
    with previews_held(server):
        pick(eve, made.jpeg(tmp_path / "sunset.jpg", (1200, 400)))
        expect(eve.locator("#conversation form [data-attach-chips] > li[data-attach-id]")).to_have_count(1)
        composer(eve).fill("sunset")
        composer(eve).press("Enter")
        message = fin.locator("article.message", has_text="sunset")
        placeholder = message.locator(".attachment-image svg.attachment-placeholder")
        # At once, before any thumbnail: its true shape, scaled to fit (1200 x 400 -> 420 x 140).
        expect(placeholder).to_be_visible()
        expect(message.locator(".attachment-pending")).to_have_text("Preparing preview…")
        expect(placeholder).to_have_attribute("aria-label", "sunset.jpg, preparing preview")
        before = box(placeholder)
        assert (before["width"], before["height"]) == (420, 140)
        below = fin.locator("#conversation form[data-composer]").bounding_box()["y"]
        assert make_previews(server) == 1
    # Live: the thumbnail in the very same box; nothing below it moved.
    thumbnail = message.locator(".attachment-image img")
    expect(thumbnail).to_have_attribute("src", re.compile(r"preview"))
    fin.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    assert box(thumbnail) == before
    assert fin.locator("#conversation form[data-composer]").bounding_box()["y"] == below
    expect(message.locator(".attachment-pending")).to_have_count(0)
    expect(message.locator(".message-head")).not_to_contain_text("removed account")  # still its author's
    expect(message.locator(".author")).to_have_text("fl_eve")
    assert fin.evaluate("img => img.naturalWidth", thumbnail.element_handle()) == 840  # sharp at 2x


def test_a_page_away_when_the_thumbnail_came_gets_it_when_it_reconnects(server, new_context, tmp_path):
    (gil, hal) = in_a_new_room(server, new_context, "fl_gil", "fl_hal")
    sockets = []

    def follow(ws):
        upstream = ws.connect_to_server()
        sockets.append(ws)
        ws.on_message(lambda message: upstream.send(message))
        upstream.on_message(lambda message: ws.send(message))

    hal.route_web_socket(re.compile(r".*/live$"), follow)
    hal.reload()
    expect(hal.locator("body")).to_have_attribute("data-live", "open")
    with previews_held(server):
        pick(gil, made.png(tmp_path / "plan.png", (400, 300)))
        expect(gil.locator("#conversation form [data-attach-chips] > li[data-attach-id]")).to_have_count(1)
        composer(gil).fill("the plan")
        composer(gil).press("Enter")
        message = hal.locator("article.message", has_text="the plan")
        expect(message.locator("svg.attachment-placeholder")).to_be_visible()
        before = box(message.locator("svg.attachment-placeholder"))
        sockets[-1].close()  # hal's connection drops
        expect(hal.locator("body")).to_have_attribute("data-live", "closed")
        assert make_previews(server) == 1
    expect(gil.locator("article.message", has_text="the plan").locator("img")).to_be_visible()  # live for gil
    expect(message.locator("svg.attachment-placeholder")).to_be_visible()  # hal missed it
    hal.get_by_role("button", name="Retry now").click()
    expect(hal.locator("body")).to_have_attribute("data-live", "open")
    thumbnail = message.locator(".attachment-image img")
    expect(thumbnail).to_be_visible()
    hal.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    assert box(thumbnail) == before
    expect(hal.locator("article.message", has_text="the plan")).to_have_count(1)


def test_on_a_phone_the_composer_and_the_images_fit(server, new_context, tmp_path):
    (ivy,) = in_a_new_room(server, new_context, "fl_ivy", **PHONE)
    pick(ivy, made.jpeg(tmp_path / "wide-panorama.jpg", (1600, 500)), made.pdf(tmp_path / "minutes.pdf"))
    expect(ivy.locator("#conversation form [data-attach-chips] > li[data-attach-id]")).to_have_count(2)
    for element in (ivy.get_by_role("button", name="Attach files"), ivy.get_by_role("button", name="Send"),
                    chips(ivy).first, chips(ivy).last):
        found = element.bounding_box()
        assert found["x"] >= 0 and found["x"] + found["width"] <= 360, f"{element} is cut off"
    check_accessibility(ivy)
    screenshot(ivy, "files-composer-phone")
    composer(ivy).fill("from the hill")
    composer(ivy).press("Enter")
    message = ivy.locator("article.message:not(.pending)", has_text="from the hill")
    image = message.locator(".attachment-image svg")
    expect(message.locator(".attachment-image img")).to_be_visible()  # (no more swaps to come)
    expect(message.locator(".attachment-file img.attachment-page")).to_be_visible()
    shown = box(image)
    assert shown["x"] + shown["width"] <= 360, "the image is wider than the screen"
    # Narrowed to the screen, the image keeps its shape (1600 x 500: 420 x 131 at most).
    assert abs(shown["width"] / shown["height"] - 420 / 131) < 0.05
    assert ivy.evaluate("document.documentElement.scrollWidth") <= 360  # nothing scrolls sideways
    check_accessibility(ivy)


def test_without_javascript_the_composer_posts_its_files_itself(server, new_context, tmp_path):
    page = signed_in(server, new_context, "fl_jo", java_script_enabled=False)
    expect(page.get_by_role("button", name="Attach files", exact=True)).to_be_hidden()  # the paperclip needs a script
    field = page.get_by_label("Attach files (up to 10)")
    field.set_input_files([str(made.png(tmp_path / "chart.png", (500, 250))), str(made.pdf(tmp_path / "budget.pdf"))])
    composer(page).fill("the chart and the budget, no script")
    page.get_by_role("button", name="Send").click()
    message = page.locator("article.message", has_text="the chart and the budget, no script")
    expect(message.locator(".attachment-image svg.attachment-box")).to_have_attribute("width", "420")
    expect(message.locator(".attachment-file")).to_contain_text("budget.pdf")


def test_a_conversation_with_an_image_and_a_pdf(server, new_context, tmp_path):
    """The README's picture: both previews made, as a reader sees them."""
    (kit, lu) = in_a_new_room(server, new_context, "fl_kit", "fl_lu", viewport={"width": 1100, "height": 860})
    with previews_held(server):
        pick(kit, made.jpeg(tmp_path / "site-visit.jpg", (1200, 800), gps=False),
             made.pdf(tmp_path / "Q3 numbers.pdf", "Q3 numbers, as discussed"))
        expect(kit.locator("#conversation form [data-attach-chips] > li[data-attach-id]")).to_have_count(2)
        composer(kit).fill("Photos from the site visit, and the numbers we talked about")
        composer(kit).press("Enter")
        message = lu.locator("article.message", has_text="Photos from the site visit")
        expect(message.locator(".attachment-pending")).to_have_text("Preparing preview…")
        assert make_previews(server) == 2
    expect(message.locator(".attachment-image img")).to_be_visible()
    expect(message.locator(".attachment-file img.attachment-page")).to_be_visible()
    for image in message.locator("img").all():
        lu.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    lu.get_by_role("button", name="Dismiss the notifications hint").click()
    composer(lu).fill("Thanks! The drawings are next")
    pick(lu, made.png(tmp_path / "drawings.png", (900, 600)))
    expect(lu.locator("#conversation form [data-attach-chips] > li[data-attach-id]")).to_have_count(1)
    check_accessibility(lu)
    lu.screenshot(path="docs/screenshot-files.png")
