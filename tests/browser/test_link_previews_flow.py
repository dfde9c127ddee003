"""Link previews as people meet them, in real Chromium against a real server whose own worker
fetches from a little site of ours on 127.0.0.1 (allowed by HUDDLE_PREVIEW_ALLOWED_HOSTS): a
message with a link is shown at once, and its card (site, title as a link, description, Huddle's
copy of the image) arrives live for both people as an edit; only its sender sees the ×, and
removing it takes the card away on the other's page too; at a phone's width the card fits; axe
finds nothing serious."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.helpers.browser import check_accessibility, in_a_new_room, log_in, screenshot, signed_in
from tests.helpers.link_pages import LinkPages, article
from tests.helpers.server import served

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def pages():
    made = LinkPages().start()
    yield made
    made.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, pages):
    yield from served(tmp_path_factory, "link-previews",
                      HUDDLE_PREVIEW_ALLOWED_HOSTS=pages.host, HUDDLE_LINK_PREVIEWS="on")


def png(size=(600, 300)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (40, 110, 90)).save(out, "PNG")
    return out.getvalue()


def send(page, text: str) -> int:
    page.get_by_label("Message", exact=True).fill(text)
    page.keyboard.press("Enter")
    message = page.locator("article.message", has_text=text.split()[0]).last
    expect(message).to_have_attribute("data-version", re.compile(r"\d+"))
    return int(message.get_attribute("id").split("-")[1])


def test_a_links_card_arrives_live_and_its_sender_removes_it_for_everyone(server, new_context, pages):
    image = pages.file("/otters.png", png(), "image/png")
    link = pages.page("/otters", article("Otters hold hands", "While they sleep, so that they do not drift apart "
                                         "on the current; a raft of them can be dozens strong.", image,
                                         "Nature Notes"))
    ines, omar = in_a_new_room(server, new_context, "ines", "omar", viewport={"width": 1200, "height": 800})
    message_id = send(ines, f"otters! {link}")

    # The card arrives on both pages by itself: the server's worker fetched it, the message was edited.
    theirs = omar.locator(f"#message-{message_id} .link-preview")
    expect(theirs).to_be_visible()
    title = theirs.get_by_role("link", name="Otters hold hands")
    expect(title).to_have_attribute("href", link)
    expect(title).to_have_attribute("rel", "noopener noreferrer nofollow ugc")
    expect(theirs).to_contain_text("Nature Notes")
    expect(theirs).to_contain_text("While they sleep")
    picture = theirs.locator("img.link-preview-image")
    expect(picture).to_have_attribute("src", re.compile(rf"^/chat/messages/{message_id}/preview/image"))
    expect(picture).to_have_js_property("complete", True)
    assert picture.evaluate("el => el.naturalWidth") > 0  # Huddle served it
    assert pages.asked.count("/otters.png") == 1  # once, by the server: never by a browser

    # Only its sender has the ×.
    expect(omar.locator(f"#message-{message_id} .link-preview-remove")).to_be_hidden()
    mine = ines.locator(f"#message-{message_id} .link-preview")
    expect(mine).to_be_visible()
    cross = ines.get_by_role("button", name="Remove link preview")
    expect(cross).to_be_visible()
    check_accessibility(omar)
    check_accessibility(ines)
    screenshot(omar, "85-link-preview")

    # ines removes it: gone on her page and on omar's, the message itself stays.
    cross.click()
    expect(mine).to_have_count(0)
    expect(theirs).to_have_count(0)
    expect(omar.locator(f"#message-{message_id}")).to_contain_text("otters!")
    omar.reload()
    expect(omar.locator(f"#message-{message_id}")).to_be_visible()
    expect(omar.locator(f"#message-{message_id} .link-preview")).to_have_count(0)


def test_at_a_phones_width_the_card_fits(server, new_context, pages):
    link = pages.page("/long", article("A very long title " * 8, "And a description that goes on and on " * 10,
                                       pages.file("/wide.png", png((1600, 400)), "image/png"), "Wide Things"))
    pia = signed_in(server, new_context, "pia", viewport={"width": 1200, "height": 800})
    message_id = send(pia, f"wide {link}")
    phone = new_context(**PHONE).new_page()
    log_in(phone, server, "pia")
    phone.goto(pia.url)
    card = phone.locator(f"#message-{message_id} .link-preview")
    expect(card).to_be_visible()
    expect(card.locator("img.link-preview-image")).to_have_js_property("complete", True)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}"
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    lines = card.locator(".link-preview-description").evaluate(
        "el => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight))")
    assert lines <= 2  # two lines of description at most
    check_accessibility(phone)
    screenshot(phone, "86-link-preview-phone")


def test_a_card_made_after_a_kill_reaches_the_page_that_stayed_open_once(server, new_context, pages):
    """kill -9 with a page open; once the server is back, a link is posted and the restarted
    server's worker makes its card: the page that was open all along catches up on the message and
    its card (a numbered edit) by itself, each once."""
    from tests.helpers import PASSWORD
    from tests.helpers.browser import live_in_general

    link = pages.page("/after-the-kill", article("Still standing", "Made by the worker of a server started again.",
                                                 site="Notes"))
    page, general, token = live_in_general(server, new_context, "lpkill", viewport={"width": 1200, "height": 800})
    server.kill()
    expect(page.locator("body")).to_have_attribute("data-live", "closed")
    server.start()
    token = server.api_token("lpkill", PASSWORD)
    sent = server.api("POST", f"/api/v1/conversations/{general}/messages", token, {"text": f"read {link}"})["data"]
    expect(page.locator("body")).to_have_attribute("data-live", "open", timeout=20000)
    card = page.locator(f"#message-{sent['id']} .link-preview")
    expect(card).to_contain_text("Still standing", timeout=20000)
    expect(page.locator(f"[id='message-{sent['id']}']")).to_have_count(1)
    expect(page.locator(".link-preview", has_text="Still standing")).to_have_count(1)
