"""Replies as people meet them: one replies from a message's "⋯" menu (the bar over the composer,
Escape cancels, the focus stays in the box), the other sees the quote arrive live and follows it
to the original, scrolled to and highlighted; an edit and a deletion of the original show in the
quote live; a send refused because the original went keeps the text; accessible, and at a phone's
width too."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import check_accessibility, in_a_new_room, live_in_general, log_in, screenshot, signed_in
from tests.helpers.pages import body, post_many
from tests.helpers.server import served

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Posting enough for the original to leave the screen: the limit raised."""
    yield from served(tmp_path_factory, "replies", HUDDLE_POSTS_PER_10_SECONDS="1000")


def reply_from_menu(page, message_id: int) -> None:
    page.locator(f"#message-{message_id} [data-menu-button]").click()
    page.locator(f"#message-{message_id}-actions").get_by_role("link", name="Reply", exact=True).click()


def test_a_reply_quotes_the_original_live_and_jumps_to_it(server, new_context):
    rosa, tomas = in_a_new_room(server, new_context, "rosa", "tomas", viewport={"width": 1200, "height": 800})
    rosa.get_by_label("Message", exact=True).fill("**Lunch** at the harbour at noon?")
    rosa.keyboard.press("Enter")
    original = body(rosa, "Lunch at the harbour at noon?")
    expect(original).to_have_attribute("data-version", re.compile(r"\d+"))
    original_id = int(original.get_attribute("id").split("-")[1])
    post_many(rosa, rosa.url, "filler", 1, 30)  # the original leaves the screen
    expect(body(tomas, "filler 30")).to_be_visible()

    # tomas: Reply from the menu; the bar says to whom; Escape cancels it, the focus in the box.
    reply_from_menu(tomas, original_id)
    bar = tomas.locator("[data-composer] [data-reply-bar]")
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("Replying to rosa: Lunch at the harbour at noon?")
    expect(tomas.locator("[data-reply-status]")).to_have_text("Replying to rosa: Lunch at the harbour at noon?")
    box = tomas.get_by_label("Message", exact=True)
    expect(box).to_be_focused()
    tomas.keyboard.press("Escape")
    expect(bar).to_be_hidden()
    expect(box).to_be_focused()
    reply_from_menu(tomas, original_id)
    expect(bar).to_be_visible()
    check_accessibility(tomas)
    screenshot(tomas, "90-reply-bar")
    box.fill("yes, see you there")
    tomas.keyboard.press("Enter")
    expect(bar).to_be_hidden()  # gone with the send
    reply = body(tomas, "yes, see you there")
    expect(reply).to_have_attribute("data-version", re.compile(r"\d+"))
    reply_id = int(reply.get_attribute("id").split("-")[1])

    # rosa sees the quote live; following it scrolls to the original and highlights it.
    quote = rosa.locator(f"#message-{reply_id} .reply-quote a")
    expect(quote).to_have_attribute("aria-label", "Reply to rosa: Lunch at the harbour at noon?")
    expect(quote).to_contain_text("rosa")
    expect(rosa.locator(f"#message-{original_id}")).not_to_be_in_viewport()
    quote.focus()
    rosa.keyboard.press("Enter")  # keyboard reachable
    expect(rosa.locator(f"#message-{original_id}")).to_be_in_viewport()
    expect(rosa.locator(f"#message-{original_id}")).to_have_class(re.compile(r"\bhighlight\b"))
    expect(rosa.locator(f"#message-{original_id}")).to_be_focused()
    check_accessibility(rosa)
    screenshot(rosa, "91-reply-quote")

    # The original edited, then deleted: the quote follows on tomas's page, live.
    token = server.api_token("rosa", PASSWORD)
    server.api("PATCH", f"/api/v1/messages/{original_id}", token, {"text": "Lunch at one instead"})
    expect(tomas.locator(f"#message-{reply_id} .reply-quote")).to_contain_text("Lunch at one instead")
    reply_from_menu(tomas, original_id)  # a reply under way when the original goes
    server.api("DELETE", f"/api/v1/messages/{original_id}", token)
    expect(tomas.locator(f"#message-{reply_id} .reply-quote")).to_contain_text("Original message deleted")
    box.fill("too late?")
    tomas.keyboard.press("Enter")
    expect(tomas.locator("[data-composer-error]")).to_contain_text("still there")
    expect(box).to_have_value("too late?")  # nothing typed is lost

    # At a phone's width: Reply from the menu, the bar fits and reads well.
    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    log_in(phone, server, "tomas", PASSWORD)
    phone.goto(tomas.url)
    last = body(phone, "filler 30")
    last_id = int(last.get_attribute("id").split("-")[1])
    reply_from_menu(phone, last_id)
    expect(phone.locator("[data-composer] [data-reply-bar]")).to_contain_text("Replying to rosa: filler 30")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}"
    check_accessibility(phone)
    screenshot(phone, "92-reply-phone")


def test_without_a_script_reply_is_a_page_with_the_bar_and_a_plain_post(server, new_context):
    page = signed_in(server, new_context, "uma", java_script_enabled=False)
    page.get_by_label("Message", exact=True).fill("anyone for tea?")
    page.get_by_role("button", name="Send").click()
    original = body(page, "anyone for tea?")
    original_id = int(original.get_attribute("id").split("-")[1])
    reply = original.get_by_role("link", name="Reply", exact=True)
    expect(reply).to_be_visible()  # the "⋯" menu cannot open without a script: its actions show
    reply.click()
    bar = page.locator("[data-composer] [data-reply-bar]")
    expect(bar).to_contain_text("Replying to uma: anyone for tea?")
    bar.get_by_role("link", name="Cancel reply").click()  # × is a link back without it
    expect(bar).to_be_hidden()
    body(page, "anyone for tea?").get_by_role("link", name="Reply", exact=True).click()
    page.get_by_label("Message", exact=True).fill("me!")
    page.get_by_role("button", name="Send").click()
    quote = body(page, "me!").locator(".reply-quote a")
    expect(quote).to_have_attribute("aria-label", "Reply to uma: anyone for tea?")
    expect(bar).to_be_hidden()
    quote.click()
    expect(page).to_have_url(re.compile(rf"/messages/{original_id}#message-{original_id}$"))
    expect(page.locator(f"[data-highlight] + #message-{original_id}")).to_be_visible()
    screenshot(page, "93-reply-without-a-script")


def test_a_reply_in_a_threads_panel_goes_to_the_threads_composer(server, new_context):
    vic, = in_a_new_room(server, new_context, "vic", viewport={"width": 1300, "height": 850})
    vic.get_by_label("Message", exact=True).fill("release on friday?")
    vic.keyboard.press("Enter")
    parent = body(vic, "release on friday?")
    expect(parent).to_have_attribute("data-version", re.compile(r"\d+"))
    parent_id = int(parent.get_attribute("id").split("-")[1])
    vic.locator(f"#message-{parent_id} [data-menu-button]").click()
    vic.locator(f"#message-{parent_id}-actions").get_by_role("link", name="Reply in thread").click()
    panel = vic.locator("#thread-panel")
    panel.get_by_label("Message", exact=True).fill("thursday works")
    panel.get_by_label("Message", exact=True).press("Enter")
    answer = panel.locator("[data-messages] article.message[data-version]", has_text="thursday works")
    answer_id = int(answer.get_attribute("id").split("-")[1])

    reply_from_menu(vic, answer_id)  # a message of the thread: the panel's composer takes the reply
    expect(panel.locator("[data-reply-bar]")).to_contain_text("Replying to vic: thursday works")
    expect(vic.locator("#conversation [data-composer] [data-reply-bar]").first).to_be_hidden()
    expect(panel.get_by_label("Message", exact=True)).to_be_focused()
    panel.get_by_label("Message", exact=True).fill("or friday")
    panel.get_by_label("Message", exact=True).press("Enter")
    quote = panel.locator("article.message", has_text="or friday").locator(".reply-quote a")
    expect(quote).to_have_attribute("aria-label", "Reply to vic: thursday works")


def test_an_original_edited_while_the_server_was_killed_shows_in_the_quote_once_back(server, new_context):
    """kill -9 with a page open; the original is edited once the server is back: the page's quote
    ends showing the new words by itself (the reply's message.edited, caught up by number)."""
    page, general, token = live_in_general(server, new_context, "wes", viewport={"width": 1200, "height": 800})
    said = server.api("POST", f"/api/v1/conversations/{general}/messages", token, {"text": "deploy at five?"})["data"]
    reply = server.api("POST", f"/api/v1/conversations/{general}/messages", token,
                       {"text": "ok", "reply_to": said["id"]})["data"]
    quote = page.locator(f"#message-{reply['id']} .reply-quote")
    expect(quote).to_contain_text("deploy at five?")

    server.kill()
    expect(page.locator("body")).to_have_attribute("data-live", "closed")
    server.start()
    token = server.api_token("wes", PASSWORD)
    server.api("PATCH", f"/api/v1/messages/{said['id']}", token, {"text": "deploy at six"})
    expect(page.locator("body")).to_have_attribute("data-live", "open", timeout=20000)
    expect(quote).to_contain_text("deploy at six")
    expect(page.locator(f"[id='message-{reply['id']}']")).to_have_count(1)


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    """Two posts in ten seconds: the third is refused (429)."""
    yield from served(tmp_path_factory, "replies-strict", HUDDLE_POSTS_PER_10_SECONDS="2")


def test_a_reply_refused_for_sending_too_fast_keeps_its_bar_and_text(strict_server, new_context):
    xan, = in_a_new_room(strict_server, new_context, "xan", viewport={"width": 1200, "height": 800})
    box = xan.get_by_label("Message", exact=True)
    for text in ("first of two", "second of two"):
        box.fill(text)
        box.press("Enter")
        expect(body(xan, text)).to_have_attribute("data-version", re.compile(r"\d+"))
    original_id = int(body(xan, "first of two").get_attribute("id").split("-")[1])
    reply_from_menu(xan, original_id)
    box.fill("a third, too fast")
    box.press("Enter")
    expect(xan.locator("[data-composer-error]")).to_contain_text("very fast")
    expect(box).to_have_value("a third, too fast")
    expect(xan.locator("[data-composer] [data-reply-bar]")).to_contain_text("Replying to xan: first of two")
    expect(xan.locator("[data-composer] [data-reply-to]")).to_have_value(str(original_id))
