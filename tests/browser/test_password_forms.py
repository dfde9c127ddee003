"""The change-password form refuses a new password: one message per field, where the focus lands."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.accounts.rules import CURRENT_PASSWORD_CLEARED, PASSWORDS_CLEARED
from tests.helpers import PASSWORD
from tests.helpers.browser import account_menu, check_accessibility, screenshot, signed_in

pytestmark = pytest.mark.browser
NEW_PASSWORD = "a password typed twice"


def test_a_mismatch_is_said_once_on_the_first_password_field_which_takes_the_focus(server, new_context):
    page = signed_in(server, new_context, "petra", viewport={"width": 1000, "height": 900})
    account_menu(page).get_by_role("link", name="Password").click()
    expect(page).to_have_url(server.url + "/account/password")
    form = page.locator("form#change-password-form")
    new, confirm = form.get_by_label("New password"), form.get_by_label("Confirm password")
    expect(new).to_have_attribute("aria-describedby", "password-hint")
    page.evaluate("window.__noReload = true")

    # Too short: the error takes the hint's place, not a second line saying the same.
    form.get_by_label("Current password").fill(PASSWORD)
    new.fill("short")
    confirm.fill("short")
    form.get_by_role("button", name="Change password").click()
    expect(form.locator("#password-error")).to_have_text("Use at least 8 characters.")
    expect(form.locator("#password-hint")).to_have_count(0)
    expect(form.get_by_text("at least 8 characters")).to_have_count(1)
    expect(new).to_be_focused()

    # The two differ: both come back empty, and the first says so, once; the second says nothing.
    form.get_by_label("Current password").fill(PASSWORD)
    new.fill(NEW_PASSWORD)
    confirm.fill("a password typed once")
    form.get_by_role("button", name="Change password").click()
    expect(form.locator("#password-error")).to_have_text(PASSWORDS_CLEARED)
    expect(form.get_by_text("did not match")).to_have_count(1)
    expect(form.locator("#confirm_password-error")).to_have_count(0)
    expect(new).to_be_focused()
    expect(new).to_have_attribute("aria-invalid", "true")
    expect(new).to_have_attribute("aria-describedby", "password-error")
    expect(confirm).not_to_have_attribute("aria-invalid", "true")
    for field in (form.get_by_label("Current password"), new, confirm):
        expect(field).to_have_value("")  # passwords never come back
    check_accessibility(page)
    screenshot(page, "40-password-mismatch")

    # A wrong current password: that field says what happened to the form, and takes the focus.
    form.get_by_label("Current password").fill("not my password")
    new.fill(NEW_PASSWORD)
    confirm.fill(NEW_PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(form.locator("#current_password-error")).to_have_text(CURRENT_PASSWORD_CLEARED)
    expect(form.locator(".field-error")).to_have_count(1)
    expect(form.get_by_label("Current password")).to_be_focused()
    check_accessibility(page)

    # Typed as asked, it is changed.
    form.get_by_label("Current password").fill(PASSWORD)
    new.fill(NEW_PASSWORD)
    confirm.fill(NEW_PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(page).to_have_url(server.url + "/users/petra")
    expect(page.locator("#flash")).to_contain_text("Your password has been changed.")
