"""Mentions as a person meets them: someone writes @me, the header's badge counts it at once
wherever I am, the sidebar counts it beside the conversation, /mentions lists it (accessible, at a
phone's width too) and opens it in context, where it says "mentions you" (to a screen reader too,
and only to me), and reading it takes the count back to nothing, live."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import check_accessibility, log_in, screenshot, signed_in

pytestmark = pytest.mark.browser

PERMALINK = re.compile(r"/chat/\d+/messages/\d+#message-\d+$")
SHOWN = "el => getComputedStyle(el).display !== 'none'"


def badge(page):
    return page.locator("#mentions-badge")


def test_a_mention_is_counted_listed_opened_in_context_and_read(server, new_context):
    server.create_user("ama", PASSWORD)
    ben = signed_in(server, new_context, "ben", viewport={"width": 1200, "height": 800})
    general = int(ben.url.rstrip("/").split("/")[-1])
    ben.get_by_role("link", name="People").click()  # away from the conversation: nothing is read there
    expect(badge(ben)).to_be_hidden()

    ama = server.api_token("ama", PASSWORD)
    sent = server.api("POST", f"/api/v1/conversations/{general}/messages", ama,
                      {"text": "@ben could you review the `@ama` notes? mail ama@example.com"})["data"]
    ben_id = sent["mentions"][0]
    expect(badge(ben)).to_be_visible()  # live, without a reload
    expect(badge(ben)).to_have_text(re.compile(r"1$"))
    expect(ben.get_by_role("link", name=re.compile(r"^Mentions\s*, unread: 1$"))).to_be_visible()

    ben.goto(server.url + "/chat/sidebar")  # the sidebar's own page (a phone's): the count beside #general
    expect(ben.locator(f"#conversation-{general}-mentions")).to_have_text(re.compile(r"@1 unread mention$"))

    ben.get_by_role("link", name=re.compile("^Mentions")).click()
    found = ben.get_by_role("list", name="Messages that mention you")
    expect(found.locator(".mention-item")).to_have_count(1)
    expect(found.locator(".mention-new")).to_have_text("New")
    expect(found.locator(".search-hit-where")).to_have_text("#general")
    check_accessibility(ben)
    screenshot(ben, "70-mentions")
    ben.screenshot(path="docs/screenshot-mentions.png")

    found.get_by_role("link").click()
    ben.wait_for_url(PERMALINK)
    message = ben.locator(f"#message-{sent['id']}")
    expect(message).to_have_class(re.compile("highlight"))
    mention = message.locator(f".mention[data-user-id='{ben_id}']")
    expect(mention).to_have_text("@ben, mentions you")  # the words are there for a screen reader
    assert mention.locator(".mention-you").evaluate(SHOWN)
    expect(message.locator(".mention")).to_have_count(1)  # code and an address are no mentions
    expect(badge(ben)).to_be_hidden()  # read: the count went back to nothing, live
    check_accessibility(ben)

    # The author sees the same message without "mentions you" (it mentions ben, not ama).
    ama_page = new_context(viewport={"width": 1200, "height": 800}).new_page()
    log_in(ama_page, server, "ama")
    theirs = ama_page.locator(f"#message-{sent['id']} .mention[data-user-id='{ben_id}']")
    expect(theirs).to_be_visible()
    assert not theirs.locator(".mention-you").evaluate(SHOWN)

    # At a phone's width, the list reads as well.
    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    log_in(phone, server, "ben")
    phone.goto(server.url + "/mentions")
    expect(phone.locator(".mention-item")).to_have_count(1)
    expect(phone.locator(".mention-new")).to_have_count(0)  # read since
    check_accessibility(phone)
    screenshot(phone, "71-mentions-phone")


def test_everyone_in_a_big_room_asks_first_and_is_sent_once_confirmed(server, new_context):
    server.create_user("cal", PASSWORD)
    for n in range(31):  # #general: more than 30 people, everyone is in it
        server.create_user(f"crowd{n:02d}", PASSWORD)
    page = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    log_in(page, server, "cal")
    box = page.get_by_role("textbox", name="Message", exact=True)
    box.fill("@everyone the deploy is at five")
    box.press("Enter")
    error = page.locator("[data-composer-error]")
    expect(error).to_contain_text(re.compile(r"^Notify all \d+ members of #general\?"))
    expect(box).to_have_value("@everyone the deploy is at five")  # the text is kept
    confirm = page.get_by_role("checkbox", name="Notify all members")
    check_accessibility(page)
    confirm.check()
    box.press("Enter")
    sent = page.locator("#conversation article.message:not([data-pending])", has_text="the deploy is at five")
    expect(sent).to_be_visible()
    expect(sent.locator(".mention[data-everyone]")).to_be_visible()
    assert not sent.locator(".mention[data-everyone] .mention-you").evaluate(SHOWN)  # cal wrote it: not "you"
    expect(confirm).to_be_hidden()
    expect(error).to_be_hidden()


def test_a_conversation_set_to_nothing_shows_only_its_mentions(server, new_context):
    server.create_user("dan", PASSWORD)
    server.create_user("eve", PASSWORD)
    eve, dan_token = server.api_token("eve", PASSWORD), server.api_token("dan", PASSWORD)
    ops = server.api("POST", "/api/v1/conversations", eve, {"room": "ops"})["data"]["id"]
    server.api("POST", "/api/v1/conversations", dan_token, {"room": "ops"})  # dan joins it
    server.api("POST", f"/api/v1/conversations/{ops}/messages", eve, {"text": "plain news"})
    server.api("POST", f"/api/v1/conversations/{ops}/messages", eve, {"text": "@dan your turn"})
    page = new_context(viewport={"width": 1200, "height": 800}).new_page()
    log_in(page, server, "dan")  # in #general: ops is only in the sidebar
    expect(page.locator("body")).to_have_attribute("data-live", "open")
    unread, mentions = page.locator(f"#conversation-{ops}-unread"), page.locator(f"#conversation-{ops}-mentions")
    expect(unread).to_have_text("2")
    expect(mentions).to_have_text(re.compile(r"^@1 unread mention$"))
    expect(page).to_have_title(re.compile(r"^\(2\) "))
    # "Nothing" chosen elsewhere (a program here): the sidebar follows at once, the mention stays.
    server.api("PUT", f"/api/v1/conversations/{ops}/notifications", dan_token, {"level": "nothing"})
    expect(unread).to_have_count(0)
    expect(mentions).to_have_text(re.compile(r"^@1 unread mention$"))
    expect(page).not_to_have_title(re.compile(r"^\(\d"))
    check_accessibility(page)


def test_everyone_in_an_open_room_does_not_mention_a_reader_who_is_not_in_it(server, new_context):
    server.create_user("fay", PASSWORD)
    server.create_user("gus", PASSWORD)
    gus = server.api_token("gus", PASSWORD)
    town = server.api("POST", "/api/v1/conversations", gus, {"room": "town"})["data"]["id"]
    sent = server.api("POST", f"/api/v1/conversations/{town}/messages", gus, {"text": "@everyone and @fay"})["data"]
    page = new_context(viewport={"width": 1200, "height": 800}).new_page()
    log_in(page, server, "fay")
    page.goto(f"{server.url}/chat/{town}")  # read, not joined: a preview
    message = page.locator(f"#message-{sent['id']}")
    assert not message.locator(".mention[data-everyone] .mention-you").evaluate(SHOWN)  # for its members
    assert message.locator(".mention[data-user-id] .mention-you").evaluate(SHOWN)  # named: fay may read it
