"""Reactions as people meet them: one reacts from the palette (opened and chosen by keyboard,
filtered by typing a name), the other sees the chip arrive live with its count and who, adds theirs
with a click (shown as theirs only to them), takes it back with the same click; accessible, and at
a phone's width too."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import check_accessibility, in_a_new_room, live_in_general, log_in, screenshot

pytestmark = pytest.mark.browser


def chip(page, message_id: int, emoji: str):
    return page.locator(f"#message-{message_id} .reaction[value='{emoji}']")


def test_a_reaction_is_chosen_by_keyboard_seen_live_and_toggled(server, new_context):
    rosa, tomas = in_a_new_room(server, new_context, "rosa", "tomas", viewport={"width": 1200, "height": 800})
    rosa.get_by_label("Message", exact=True).fill("ship it?")
    rosa.keyboard.press("Enter")
    message = rosa.locator("article.message", has_text="ship it?")
    expect(message).to_have_attribute("data-version", re.compile(r"\d+"))
    message_id = int(message.get_attribute("id").split("-")[1])
    expect(tomas.locator(f"#message-{message_id}")).to_be_visible()

    # tomas, by keyboard: "Add reaction", type a name, pick with Tab and Enter.
    add = tomas.locator(f"#message-{message_id} [data-reaction-add]")
    add.focus()
    tomas.keyboard.press("Enter")
    field = tomas.get_by_label("Emoji name")
    expect(field).to_be_focused()
    field.press_sequentially("party")
    party = tomas.locator(f"#message-{message_id}-palette .reaction-choice[value='🎉']")
    expect(party).to_be_visible()
    expect(tomas.locator(f"#message-{message_id}-palette .reaction-choice[value='👍']")).to_be_hidden()
    check_accessibility(tomas)
    screenshot(tomas, "80-reaction-palette")
    party.focus()
    tomas.keyboard.press("Enter")
    expect(chip(tomas, message_id, "🎉")).to_have_attribute("aria-label", "🎉 1: tomas")
    expect(tomas.locator(f"#message-{message_id}-palette")).to_be_empty()

    # rosa sees it live, with its count and who; hers is not highlighted, tomas's is for him.
    theirs = chip(rosa, message_id, "🎉")
    expect(theirs).to_have_attribute("aria-label", "🎉 1: tomas")
    expect(theirs).to_have_text("🎉 1")
    mine_colour = "el => getComputedStyle(el).borderColor"
    assert theirs.evaluate(mine_colour) != chip(tomas, message_id, "🎉").evaluate(mine_colour)

    # rosa adds hers with a click; the count is 2 on both pages; the same click takes it back.
    theirs.click()
    expect(chip(tomas, message_id, "🎉")).to_have_attribute("aria-label", "🎉 2: tomas, rosa")
    expect(chip(rosa, message_id, "🎉")).to_have_text("🎉 2")
    check_accessibility(rosa)
    screenshot(rosa, "81-reactions")
    chip(rosa, message_id, "🎉").click()
    expect(chip(tomas, message_id, "🎉")).to_have_attribute("aria-label", "🎉 1: tomas")

    # Escape closes the palette, the focus back on "Add reaction".
    add = rosa.locator(f"#message-{message_id} [data-reaction-add]")
    add.focus()
    rosa.keyboard.press("Enter")
    expect(rosa.get_by_label("Emoji name")).to_be_focused()
    rosa.keyboard.press("Escape")
    expect(rosa.locator(f"#message-{message_id}-palette")).to_be_empty()
    expect(add).to_be_focused()

    # At a phone's width: the chips and the palette fit, and read as well.
    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    log_in(phone, server, "tomas", PASSWORD)
    phone.goto(tomas.url)
    expect(chip(phone, message_id, "🎉")).to_have_attribute("aria-label", "🎉 1: tomas")
    phone.locator(f"#message-{message_id} [data-menu-button]").click()  # "Add reaction" is in the "⋯" menu too
    phone.locator(f"#message-{message_id}-actions").get_by_role("link", name="Add reaction").click()
    expect(phone.get_by_label("Emoji name")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}"
    check_accessibility(phone)
    screenshot(phone, "82-reactions-phone")


def test_reactions_made_while_the_server_was_killed_and_back_reach_the_open_page(server, new_context):
    """kill -9 with a page open; reactions change once the server is back (before or after the page
    has reconnected, it does not matter): the page ends showing exactly the final ones, by itself."""
    page, general, token = live_in_general(server, new_context, "ines", viewport={"width": 1200, "height": 800})
    sent = server.api("POST", f"/api/v1/conversations/{general}/messages", token, {"text": "survives?"})["data"]
    expect(page.locator(f"#message-{sent['id']}")).to_be_visible()
    server.api("PUT", f"/api/v1/messages/{sent['id']}/reactions/%F0%9F%91%8D", token)  # 👍
    expect(chip(page, sent["id"], "👍")).to_have_attribute("aria-label", "👍 1: ines")

    server.kill()
    expect(page.locator("body")).to_have_attribute("data-live", "closed")
    server.start()
    token = server.api_token("ines", PASSWORD)
    server.api("PUT", f"/api/v1/messages/{sent['id']}/reactions/%F0%9F%8E%89", token)  # 🎉
    server.api("DELETE", f"/api/v1/messages/{sent['id']}/reactions/%F0%9F%91%8D", token)
    expect(page.locator("body")).to_have_attribute("data-live", "open", timeout=20000)
    expect(chip(page, sent["id"], "🎉")).to_have_attribute("aria-label", "🎉 1: ines")
    expect(chip(page, sent["id"], "👍")).to_have_count(0)
