"""The page's own scripts (static/js) as a person meets them: one key press does one thing, and
nothing they do breaks the Content Security Policy (no inline style, no inline script)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import log_in, signed_in

pytestmark = pytest.mark.browser

# Chromium reports a violation in the console ("Refused to apply inline style because it violates
# the following Content Security Policy directive…"); the event makes sure of it either way.
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (e) =>
    console.error(`CSP violation: ${e.violatedDirective} by ${e.sourceFile || e.blockedURI}:${e.lineNumber}`));"""


def composer(page):
    return page.get_by_role("textbox", name="Message", exact=True)


def test_one_escape_in_an_inline_edit_sends_one_request_and_returns_to_its_menu_button(server, new_context):
    page = signed_in(server, new_context, "pia")
    composer(page).fill("to be edited, or not")
    composer(page).press("Enter")
    message = page.locator("#conversation article.message", has_text="to be edited, or not")
    message.get_by_role("button", name="Message actions").click()
    message.get_by_role("link", name="Edit").click()
    box = page.get_by_label("Edit message")
    expect(box).to_be_focused()
    cancel_url = server.url + page.locator("form.edit-message [data-cancel]").get_attribute("hx-get")

    requests = []
    page.on("request", lambda request: requests.append(f"{request.method} {request.url}"))
    box.press("Escape")
    edit = message.get_by_role("button", name="Message actions")
    expect(edit).to_be_focused()  # back where the edit began: the message's menu
    expect(page.locator("form.edit-message")).to_have_count(0)
    # A barrier, not a clock: a request of the test's own, sent once the cancel is answered and
    # swapped in. A second request from the same key press would have gone out before it.
    with page.expect_response(server.url + "/healthz"):
        page.evaluate("fetch('/healthz')")
    assert requests == [f"GET {cancel_url}", f"GET {server.url}/healthz"]
    expect(page).to_have_url(re.compile(r".*/chat/\d+$"))  # cancelled in place, not a navigation


def test_form_errors_and_sends_cause_no_content_security_policy_violation(server, browser):
    server.create_user("quin", PASSWORD)
    context = browser.new_context()  # the CSP enforced: the other tests bypass it for axe
    context.set_default_timeout(5000)
    try:
        context.add_init_script(REPORT_VIOLATIONS)
        page = context.new_page()
        console = []
        page.on("console", lambda message: console.append(message.text))
        csp = lambda: [text for text in console if "Content Security Policy" in text or "CSP violation" in text]  # noqa: E731

        # A form error: the login form comes back with its message.
        page.goto(server.url + "/login")
        page.get_by_label("Username").fill("quin")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#form-error")).to_be_visible()
        log_in(page, server, "quin")
        expect(page.locator("body")).to_have_attribute("data-live", "open")

        # Composer sends: a message, then one too long (the composer comes back with its error).
        composer(page).press_sequentially("quin says hello")  # typing signals on the socket too
        composer(page).press("Enter")
        expect(composer(page)).to_have_value("")
        mine = page.locator("article.message", has_text="quin says hello")
        expect(mine).to_be_visible()
        composer(page).fill("x" * 4001)
        composer(page).press("Enter")
        expect(page.locator(".composer .field-error").first).to_contain_text("4,000")
        # An inline edit and its Escape.
        mine.get_by_role("button", name="Message actions").click()
        mine.get_by_role("link", name="Edit").click()
        page.get_by_label("Edit message").press("Escape")
        expect(page.locator("form.edit-message")).to_have_count(0)
        # A thread's panel beside the conversation: opened, replied in, closed with Escape.
        mine.get_by_role("button", name="Message actions").click()
        mine.get_by_role("link", name="Reply in thread").click()
        panel = page.locator("#thread-panel")
        composer(panel).fill("quin replies in a thread")
        composer(panel).press("Enter")
        expect(panel.locator("article.message[data-version]", has_text="quin replies in a thread")).to_be_visible()
        composer(panel).press("Escape")
        expect(panel).to_be_hidden()
        # A barrier, not a clock: a console line of the test's own, written after the tasks already
        # queued (where a violation's event waits) have run; what was reported came before it.
        with page.expect_console_message(lambda message: message.text == "barrier"):
            page.evaluate("setTimeout(() => console.log('barrier'), 0)")
        assert csp() == []

        # And the check hears a violation when there is one.
        with page.expect_console_message(lambda message: "CSP violation" in message.text):
            page.evaluate("""document.body.insertAdjacentHTML("beforeend", '<p style="color: red">inline</p>')""")
        assert csp() != []
    finally:
        context.close()
