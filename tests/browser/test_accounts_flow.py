"""What a person does: register, log out, log in, look at a profile, manage sessions."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.accounts.rules import PASSWORDS_CLEARED
from tests.helpers import PASSWORD
from tests.helpers.browser import account_menu, check_accessibility, log_in, screenshot

pytestmark = pytest.mark.browser


def visit(page, url: str, name: str) -> None:
    page.goto(url)
    check_accessibility(page)
    screenshot(page, name)


def test_register_log_out_log_in_profile_and_revoke_another_session(empty_server, new_context):
    server = empty_server  # dana registers first, so she is the administrator
    laptop = new_context(viewport={"width": 1200, "height": 800}).new_page()
    dialogs = []
    laptop.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    visit(laptop, server.url + "/", "01-welcome")
    laptop.get_by_role("link", name="Create an account").click()
    expect(laptop).to_have_url(server.url + "/register")
    check_accessibility(laptop)
    screenshot(laptop, "02-register")

    # A mistake first: the error appears beside the field, the typed values stay.
    laptop.get_by_label("Username").fill("dana")
    laptop.get_by_label("Email").fill("dana@example.com")
    laptop.get_by_label("Password", exact=True).fill(PASSWORD)
    laptop.get_by_label("Confirm password").fill("something else")
    laptop.get_by_role("button", name="Register").click()
    expect(laptop.locator("#password-error")).to_have_text(PASSWORDS_CLEARED)  # said once, where to retype
    expect(laptop.locator("#confirm_password-error")).to_have_count(0)
    expect(laptop.get_by_label("Password", exact=True)).to_be_focused()
    expect(laptop.get_by_label("Email")).to_have_value("dana@example.com")
    check_accessibility(laptop)
    screenshot(laptop, "03-register-error")

    laptop.get_by_label("Password", exact=True).fill(PASSWORD)
    laptop.get_by_label("Confirm password").fill(PASSWORD)
    laptop.get_by_role("button", name="Register").click()
    # The first account runs the site: it lands where it invites the team.
    expect(laptop).to_have_url(server.url + "/admin/invitations?welcome=1")
    expect(laptop.locator(".whoami")).to_contain_text("dana")
    expect(laptop.locator(".whoami")).to_contain_text("admin")
    check_accessibility(laptop)
    screenshot(laptop, "04-first-admin-invitations")

    account_menu(laptop).get_by_role("button", name="Log out").click()
    expect(laptop).to_have_url(server.url + "/login")
    expect(laptop.locator("#flash")).to_contain_text("You have logged out.")

    # Wrong password, then right.
    laptop.get_by_label("Username").fill("dana")
    laptop.get_by_label("Password").fill("wrong password")
    laptop.get_by_role("button", name="Log in").click()
    expect(laptop.locator("#form-error")).to_contain_text("do not match")
    check_accessibility(laptop)
    screenshot(laptop, "05-login-error")
    laptop.get_by_label("Password").fill(PASSWORD)
    laptop.get_by_role("button", name="Log in").click()
    expect(laptop).to_have_url(re.compile(r".*/chat/\d+$"))

    account_menu(laptop).get_by_role("link", name="Profile").click()
    expect(laptop).to_have_url(server.url + "/users/dana")
    expect(laptop.locator("dl.facts")).to_contain_text("dana@example.com")
    check_accessibility(laptop)
    screenshot(laptop, "06-profile")

    # A second device logs in; the laptop sees it and logs it out.
    iphone = "Mozilla/5.0 (iPhone) AppleWebKit Safari/605"
    phone = new_context(viewport={"width": 390, "height": 844}, user_agent=iphone).new_page()
    phone.goto(server.url + "/login")
    phone.get_by_label("Username").fill("dana")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    expect(phone).to_have_url(re.compile(r".*/chat/\d+$"))
    check_accessibility(phone)
    screenshot(phone, "07-phone-people")

    account_menu(laptop).get_by_role("link", name="Sessions").click()
    rows = laptop.locator("#sessions tbody tr")
    expect(rows).to_have_count(2)
    expect(laptop.locator("tr.current")).to_contain_text("This device")
    check_accessibility(laptop)
    screenshot(laptop, "08-sessions")
    laptop.get_by_role("button", name=re.compile(r"Log out Safari on iPhone")).click()
    expect(rows).to_have_count(1)  # removed in place, no reload
    expect(laptop.locator("#sessions caption")).to_have_text("1 active session")  # counted again
    expect(laptop.get_by_role("button", name="Log out everywhere else")).to_have_count(0)
    expect(laptop.locator("#toasts")).to_contain_text("That session has been logged out.")
    expect(laptop).to_have_url(server.url + "/account/sessions")

    # The phone's open page goes to the login page by itself, saying why.
    expect(phone).to_have_url(server.url + "/login?reason=revoked")
    expect(phone.locator("main .notice")).to_contain_text("You were logged out from another device.")
    # And its old cookie opens nothing.
    phone.goto(server.url + "/account/sessions")
    expect(phone.locator("h1")).to_have_text("Please log in")
    expect(phone.locator("#login-form")).to_be_visible()
    check_accessibility(phone)
    screenshot(phone, "09-phone-logged-out")
    assert dialogs == []


def test_pages_pass_accessibility_checks_in_the_dark_theme_and_at_phone_width(server, new_context):
    page = new_context(color_scheme="dark", viewport={"width": 360, "height": 740}).new_page()
    for path in ("/", "/login", "/register", "/no-such-page"):
        page.goto(server.url + path)
        check_accessibility(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} scrolls sideways at phone width ({width}px)"
    screenshot(page, "10-dark-login-phone")

    # Logged in as an admin, every kind of page, in both themes.
    server.create_user("tess", PASSWORD, admin=True)
    for scheme in ("dark", "light"):
        page = new_context(color_scheme=scheme, viewport={"width": 360, "height": 740}).new_page()
        page.on("dialog", lambda dialog: dialog.dismiss())
        log_in(page, server, "tess")
        page.goto(server.url + "/users/tess")
        page.get_by_role("link", name="Add feedback").click()
        page.locator("#feedback-new").get_by_label("Title").fill("Night shift")
        page.locator("#feedback-new").get_by_label("Content").fill("The dark theme is easy on the eyes.")
        page.get_by_role("button", name="Add feedback").last.click()
        expect(page.locator("article.feedback-item").first).to_be_visible()
        for path in ("/", "/users/tess", "/account/sessions", "/account/password", "/password/forgot",
                     "/admin/users", "/admin/invitations", "/admin/feedback", "/admin/audit",
                     "/admin/users/new"):
            page.goto(server.url + path)
            check_accessibility(page)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{path} scrolls sideways at phone width ({width}px) in the {scheme} theme"
        screenshot(page, f"10-{scheme}-admin-phone")


def test_everything_is_reachable_by_keyboard(server, new_context):
    page = new_context().new_page()
    page.goto(server.url + "/login")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('main') !== null")
    assert focused, "after the skip link, focus moves into the main content"
