""""@" in a composer as a person meets it, in real Chromium: typing "@al" offers the people whose
name starts so (who spoke lately first), the arrows choose, Enter or Tab puts "@username " at the
caret, Escape closes with nothing typed lost, and Enter sends again once the list is closed; a
screen reader is told (a combobox while it is open, the options, how many); the inline edit offers
the same; on a phone a tap picks; without JavaScript "@" is just text. And the header's "Notify me
of" choice, with a script and without: chosen, reloaded, still chosen."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import check_accessibility, log_in, screenshot

pytestmark = pytest.mark.browser


def composer(page):
    return page.get_by_label("Message", exact=True)


def people(page):
    return page.get_by_role("listbox", name="People to mention")


def sent(page, text: str):
    """The message with this text, confirmed. Each mention carries its ", mentions you" in the
    page (shown to its person only, app/chat/text.py), so the text may hold it after a name."""
    parts = re.split(r"(@[\w.-]+)", text)
    pattern = "".join(re.escape(part) + ("(?:, mentions you)?" if part.startswith("@") else "") for part in parts)
    return page.locator("#conversation article.message:not([data-pending])", has_text=re.compile(pattern))


def conversation_of(page) -> int:
    return int(page.url.rstrip("/").split("/")[-1])


def test_at_offers_people_the_keyboard_picks_and_enter_still_sends(server, new_context):
    for name in ("mia", "alice", "albert"):
        server.create_user(name, PASSWORD)
    albert = server.api_token("albert", PASSWORD)
    server.api("PATCH", "/api/v1/me", albert, {"display_name": "Albert Ross"})
    page = new_context(viewport={"width": 1200, "height": 800}).new_page()
    log_in(page, server, "mia")
    alice = server.api_token("alice", PASSWORD)
    server.api("POST", f"/api/v1/conversations/{conversation_of(page)}/messages", alice, {"text": "morning"})
    expect(sent(page, "morning")).to_be_visible()

    box = composer(page)
    box.press_sequentially("Hello @al")
    expect(people(page)).to_be_visible()
    options = people(page).get_by_role("option")
    expect(options).to_have_count(2)
    expect(options.first).to_contain_text("@alice")  # she spoke here lately
    expect(options.nth(1)).to_contain_text("Albert Ross")
    expect(options.nth(1)).to_contain_text("@albert")
    # What a screen reader is given: a combobox, open, controlling the listbox; the count said.
    listbox_id = people(page).get_attribute("id")
    expect(box).to_have_attribute("role", "combobox")
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(box).to_have_attribute("aria-controls", listbox_id)
    expect(page.locator("[data-composer] [data-mention-status]")).to_have_text(re.compile(r"^2 people to mention"))
    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    box.press("ArrowUp")
    expect(box).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))
    check_accessibility(page)
    screenshot(page, "70-mention-complete")
    box.press("Enter")
    expect(box).to_have_value("Hello @alice ")
    expect(people(page)).to_be_hidden()
    expect(box).not_to_have_attribute("role", "combobox")
    expect(box).not_to_have_attribute("aria-expanded", re.compile(".*"))

    # Escape closes it, and what was typed stays; Enter then sends.
    box.press_sequentially("and @alb")
    expect(options).to_have_count(1)
    box.press("Escape")
    expect(people(page)).to_be_hidden()
    expect(box).to_have_value("Hello @alice and @alb")
    box.press("Enter")
    expect(sent(page, "Hello @alice and @alb")).to_be_visible()
    expect(box).to_have_value("")

    # Tab picks the first one offered (none chosen); typing carries on after it.
    box.press_sequentially("@ALB")
    expect(options).to_have_count(1)
    box.press("Tab")
    expect(box).to_have_value("@albert ")
    expect(box).to_be_focused()
    box.press_sequentially("see you")
    box.press("Enter")
    expect(sent(page, "@albert see you")).to_be_visible()

    # The inline edit offers the same (Up arrow in the empty composer edits my last message).
    box.press("ArrowUp")
    edit = page.get_by_label("Edit message")
    expect(edit).to_be_focused()
    edit.press("End")
    edit.press_sequentially(" @ali")
    expect(page.get_by_role("listbox", name="People to mention").get_by_role("option")).to_have_count(1)
    edit.press("Enter")
    expect(edit).to_have_value("@albert see you @alice ")
    edit.press("Enter")
    expect(sent(page, "@albert see you @alice")).to_be_visible()
    expect(page.get_by_label("Edit message")).to_have_count(0)


def test_on_a_phone_a_tap_picks(server, new_context):
    for name in ("pia", "paul"):
        server.create_user(name, PASSWORD)
    page = new_context(viewport={"width": 390, "height": 844}, has_touch=True).new_page()
    log_in(page, server, "pia")
    box = composer(page)
    box.press_sequentially("@pa")
    option = people(page).get_by_role("option", name=re.compile("paul"))
    expect(option).to_be_visible()
    box_of = people(page).bounding_box()
    assert box_of["x"] >= 0 and box_of["x"] + box_of["width"] <= 390, box_of
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    check_accessibility(page)
    screenshot(page, "71-mention-complete-phone")
    option.tap()
    expect(box).to_have_value("@paul ")
    expect(people(page)).to_be_hidden()


def test_the_header_sets_what_i_am_notified_of(server, new_context):
    server.create_user("lev", PASSWORD)
    context = new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    log_in(page, server, "lev")
    other = context.new_page()  # another tab on the same conversation
    other.goto(page.url)
    expect(other.locator("body")).to_have_attribute("data-live", "open")
    choice = page.get_by_label("Notify me of")
    expect(choice).to_have_value("mentions")
    expect(choice.locator("option:checked")).to_have_text("Mentions only (default)")
    choice.select_option("nothing")
    expect(page.locator("#toasts")).to_contain_text("Notifications for #general: Nothing.")
    expect(other.get_by_label("Notify me of")).to_have_value("nothing")  # it follows
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    check_accessibility(page)
    page.reload()
    expect(page.get_by_label("Notify me of")).to_have_value("nothing")


def test_without_javascript_at_is_text_and_the_level_is_a_form(server, new_context):
    for name in ("nsa", "nora"):
        server.create_user(name, PASSWORD)
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, server, "nsa")
    general = conversation_of(page)
    box = composer(page)
    box.fill("ping @no")
    expect(people(page)).to_be_hidden()
    page.get_by_role("button", name="Send").click()
    expect(sent(page, "ping @no")).to_be_visible()

    page.get_by_label("Notify me of").select_option("all")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf"/chat/{general}$"))
    expect(page.get_by_text("Notifications for #general: All messages.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Notify me of")).to_have_value("all")

    # Whom to mention, as a page.
    page.goto(f"{server.url}/chat/{general}/people?q=no")
    expect(page.get_by_role("heading", name="People to mention in #general")).to_be_visible()
    expect(page.locator("[data-mention=nora]")).to_contain_text("@nora")
