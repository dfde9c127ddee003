"""A person writes feedback in place, and resets a forgotten password through the emailed link."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import account_menu, check_accessibility, log_in, screenshot
from tests.helpers.server import served
from tests.helpers.smtp import smtp_server

pytestmark = pytest.mark.browser
NEW_PASSWORD = "an even longer new password"


@pytest.fixture(scope="module")
def inbox():
    with smtp_server() as inbox:
        yield inbox


@pytest.fixture(scope="module")
def server(tmp_path_factory, inbox):
    yield from served(tmp_path_factory, "mail-server", HUDDLE_SMTP_URL=f"smtp://127.0.0.1:{inbox.port}")


def test_a_user_adds_edits_and_deletes_feedback_in_place(server, new_context):
    server.create_user("nora", PASSWORD)
    page = new_context(viewport={"width": 1000, "height": 900}).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, server, "nora")
    account_menu(page).get_by_role("link", name="Profile").click()
    expect(page.locator(".feedback-list .empty")).to_be_visible()
    page.evaluate("window.__noReload = true")

    page.get_by_role("link", name="Add feedback").click()
    form = page.locator("form#feedback-new")
    expect(form.get_by_label("Title")).to_be_focused()  # not left on the opener
    page.keyboard.press("Escape")  # cancels, and the focus goes back to "Add feedback"
    expect(form).to_have_count(0)
    expect(page.get_by_role("link", name="Add feedback")).to_be_focused()
    page.get_by_role("link", name="Add feedback").click()
    form.get_by_label("Title").fill("x" * 101)
    form.get_by_label("Content").fill("Search would help.")
    form.get_by_role("button", name="Add feedback").click()
    expect(form.locator("#feedback-new-title-error")).to_contain_text("100 characters")
    expect(form.get_by_label("Content")).to_have_value("Search would help.")
    expect(form.get_by_label("Title")).to_be_focused()  # the field in error
    check_accessibility(page)
    screenshot(page, "17-feedback-error")
    form.get_by_label("Title").fill("Message search")
    form.get_by_role("button", name="Add feedback").click()
    item = page.locator("article.feedback-item", has_text="Message search")
    expect(item).to_be_visible()
    expect(page.locator(".feedback-list .empty")).to_be_hidden()
    expect(page.locator("#toasts")).to_contain_text("your feedback was added")
    expect(page.get_by_role("link", name="Add feedback")).to_be_focused()

    item.get_by_role("link", name="Edit “Message search”").click()
    edit = page.locator("form.feedback-form", has_text="Edit feedback")
    expect(edit.get_by_label("Title")).to_be_focused()
    edit.get_by_label("Title").fill("Message search, please")
    edit.get_by_role("button", name="Save").click()
    item = page.locator("article.feedback-item", has_text="Message search, please")
    expect(item).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("Feedback updated.")
    expect(item.get_by_role("link", name="Edit “Message search, please”")).to_be_focused()
    check_accessibility(page)
    screenshot(page, "18-feedback")

    item.get_by_role("button", name="Delete “Message search, please”").click()
    expect(page.locator("article.feedback-item")).to_have_count(0)
    expect(page.locator(".feedback-list .empty")).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("Feedback deleted.")
    assert page.evaluate("document.activeElement !== document.body"), "the focus fell to <body>"
    assert page.evaluate("window.__noReload") is True, "everything happened in place"


def test_an_error_banner_stays_until_the_next_request_works(server, new_context):
    server.create_user("olga", PASSWORD)
    page = new_context().new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, server, "olga")
    page.goto(server.url + "/users/olga")
    page.get_by_role("link", name="Add feedback").click()
    page.locator("form#feedback-new").get_by_label("Title").fill("Stale")
    page.locator("form#feedback-new").get_by_label("Content").fill("Soon gone elsewhere.")
    page.get_by_role("button", name="Add feedback").last.click()
    item = page.locator("article.feedback-item", has_text="Stale")
    expect(item).to_be_visible()

    # Another tab deletes it; this page still offers Edit: a clear error where the user looks.
    other = page.context.new_page()
    other.on("dialog", lambda dialog: dialog.accept())
    other.goto(server.url + "/users/olga")
    other.get_by_role("button", name="Delete “Stale”").click()
    expect(other.locator("article.feedback-item")).to_have_count(0)
    other.close()
    item.get_by_role("link", name="Edit “Stale”").click()
    banner = page.locator("#flash .notice.error")
    expect(banner).to_contain_text("That no longer exists")
    expect(banner).to_have_attribute("role", "alert")
    check_accessibility(page)

    # The next request that works clears it.
    page.get_by_role("link", name="Add feedback").click()
    expect(page.locator("form#feedback-new")).to_be_visible()
    expect(banner).to_have_count(0)


def test_a_forgotten_password_is_reset_through_the_emailed_link(server, inbox, new_context):
    server.create_user("omar", PASSWORD)
    # An older session of omar's, open in another browser.
    older = new_context().new_page()
    log_in(older, server, "omar")
    older.goto(server.url + "/users/omar")
    expect(older.locator("body")).to_have_attribute("data-live", "open")

    page = new_context().new_page()
    page.goto(server.url + "/login")
    page.get_by_role("link", name="Forgot password?").click()
    check_accessibility(page)
    page.get_by_label("Email").fill("omar@example.com")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.locator("#forgot-form .notice")).to_contain_text("If an account uses that address")
    check_accessibility(page)
    screenshot(page, "19-forgot-sent")

    messages = inbox.messages
    for _ in range(50):
        if any(m["To"] == "omar@example.com" for m in messages):
            break
        page.wait_for_timeout(100)
    message = next(m for m in messages if m["To"] == "omar@example.com")
    link = re.search(r"http://\S+/password/reset/\S+", message.get_payload(decode=True).decode()).group(0)

    page.goto(link)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Confirm password").fill(NEW_PASSWORD)
    check_accessibility(page)
    screenshot(page, "20-reset-form")
    page.get_by_role("button", name="Set new password").click()
    expect(page).to_have_url(server.url + "/login")
    expect(page.locator("#flash")).to_contain_text("Your password has been changed")

    # The older session's open page is logged out by itself.
    expect(older).to_have_url(server.url + "/login?reason=password", timeout=3000)

    page.get_by_label("Username").fill("omar")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r".*/chat/\d+$"))

    # The link was single-use.
    page.goto(link)
    expect(page.locator("h1")).to_have_text("This reset link does not work")


def test_an_admin_edit_in_place_answers_the_same_card_as_the_page(server, new_context):
    """The in-place answer (Save, Cancel) is the card the page renders: "by ben" stays."""
    server.create_user("fb_ben", PASSWORD)
    server.create_user("fb_maya", PASSWORD, admin=True)
    ben = new_context().new_page()
    log_in(ben, server, "fb_ben")
    ben.goto(server.url + "/users/fb_ben")
    ben.get_by_role("link", name="Add feedback").click()
    ben.locator("form#feedback-new").get_by_label("Title").fill("Dark mode")
    ben.locator("form#feedback-new").get_by_label("Content").fill("Evenings are bright.")
    ben.locator("form#feedback-new").get_by_role("button", name="Add feedback").click()
    expect(ben.locator("article.feedback-item", has_text="Dark mode")).to_be_visible()

    maya = new_context(viewport={"width": 1000, "height": 900}).new_page()
    log_in(maya, server, "fb_maya")
    maya.goto(server.url + "/admin/feedback")
    maya.evaluate("window.__noReload = true")
    card = maya.locator("article.feedback-item", has_text="Dark mode")
    expect(card).to_contain_text("by fb_ben")
    page_card = card.inner_text()

    card.get_by_role("link", name="Edit “Dark mode”").click()  # Cancel: the card as it was
    maya.locator("form.feedback-form").get_by_role("link", name="Cancel").click()
    expect(card).to_be_visible()
    assert card.inner_text() == page_card

    card.get_by_role("link", name="Edit “Dark mode”").click()
    edit = maya.locator("form.feedback-form", has_text="Edit feedback")
    edit.get_by_label("Title").fill("Dark mode, please")
    edit.get_by_role("button", name="Save").click()
    card = maya.locator("article.feedback-item", has_text="Dark mode, please")
    expect(card).to_contain_text("edited by fb_maya (admin)")
    expect(card).to_contain_text("by fb_ben")
    answered = card.inner_text()
    assert maya.evaluate("window.__noReload") is True
    maya.reload()
    assert card.inner_text() == answered, "the in-place answer and the page show different cards"
