"""An admin manages users inline while a user's open page is logged out in front of them."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import check_accessibility, log_in, screenshot

pytestmark = pytest.mark.browser


def test_admin_edits_adds_and_deletes_users_and_the_deleted_users_page_logs_out(server, new_context):
    server.create_user("boss", PASSWORD, admin=True)
    server.create_user("gwen", PASSWORD)
    server.create_user("hal", PASSWORD)

    hal = new_context().new_page()
    log_in(hal, server, "hal")
    hal.goto(server.url + "/users/hal")

    admin = new_context(viewport={"width": 1280, "height": 800}).new_page()
    admin.on("dialog", lambda dialog: dialog.accept())
    log_in(admin, server, "boss")
    admin.get_by_role("link", name="Admin").click()
    expect(admin).to_have_url(server.url + "/admin/users")
    # hal has a page open, so the table shows him online.
    expect(admin.locator("tr", has_text="hal@example.com").locator(".badge.online")).to_be_visible()
    check_accessibility(admin)
    screenshot(admin, "11-admin-users")
    admin.evaluate("window.__noReload = true")

    # Edit gwen inline: a mistake first (shown in the row, nothing saved), then the fix.
    gwen_row = admin.locator("tr", has_text="gwen@example.com")
    gwen_row.get_by_role("link", name="Edit gwen").click()
    form_row = admin.locator("tr.editing")
    expect(form_row.get_by_label("Username")).to_have_value("gwen")
    expect(form_row.get_by_label("Username")).to_be_focused()  # the first field of what opened
    # Escape cancels, and the focus goes back to the Edit that opened the form.
    admin.keyboard.press("Escape")
    expect(admin.locator("tr.editing")).to_have_count(0)
    expect(gwen_row.get_by_role("link", name="Edit gwen")).to_be_focused()
    gwen_row.get_by_role("link", name="Edit gwen").click()
    form_row.get_by_label("Email").fill("not an email")
    form_row.get_by_role("button", name="Save").click()
    expect(form_row.locator(".field-error")).to_contain_text("valid email")
    expect(form_row.get_by_label("Email")).to_be_focused()  # the field in error
    check_accessibility(admin)
    screenshot(admin, "12-admin-edit-error")
    form_row.get_by_label("Username").fill("gwendolyn")
    form_row.get_by_label("Email").fill("gwendolyn@example.com")
    form_row.get_by_role("button", name="Save").click()
    expect(admin.locator("tr", has_text="gwendolyn@example.com")).to_contain_text("gwendolyn")
    expect(admin.locator("tr.editing")).to_have_count(0)
    expect(admin.locator("#toasts")).to_contain_text("Saved gwendolyn.")  # said once, politely
    expect(admin.get_by_role("link", name="Edit gwendolyn")).to_be_focused()

    # Add a user: the form opens as a new row at the top (twice is still one form), Cancel
    # takes it away, and opening it again works.
    admin.get_by_role("link", name="Add user").click()
    admin.get_by_role("link", name="Add user").click()
    expect(admin.locator("tr.editing")).to_have_count(1)
    expect(admin.locator("#user-new-row").get_by_label("Username")).to_be_focused()
    admin.locator("#user-new-row").get_by_role("link", name="Cancel").click()
    expect(admin.locator("tr.editing")).to_have_count(0)
    expect(admin.get_by_role("link", name="Add user")).to_be_focused()
    admin.get_by_role("link", name="Add user").click()
    new_row = admin.locator("#user-new-row")
    new_row.get_by_label("Username").fill("ivy")
    new_row.get_by_label("Email").fill("ivy@example.com")
    new_row.get_by_label("Password", exact=True).fill(PASSWORD)
    new_row.get_by_label("Confirm password").fill(PASSWORD)
    screenshot(admin, "13-admin-add")
    new_row.get_by_role("button", name="Save").click()
    expect(admin.locator("#users-rows tr:not([hidden])").first).to_contain_text("ivy@example.com")
    expect(admin.locator("tr.editing")).to_have_count(0)

    # Delete hal, whose profile page is open in another browser.
    admin.locator("tr", has_text="hal@example.com").get_by_role("link", name="Delete hal").click()
    expect(admin.locator("tr", has_text="hal@example.com")).to_have_count(0)
    expect(admin.locator("#toasts")).to_contain_text("Deleted hal.")
    assert admin.evaluate("document.activeElement !== document.body"), "the focus fell to <body>"
    expect(hal).to_have_url(server.url + "/login?reason=deleted", timeout=2000)
    expect(hal.locator("main .notice")).to_contain_text("Your account was deleted.")
    check_accessibility(hal)
    screenshot(hal, "14-deleted-user-logged-out")

    assert admin.evaluate("window.__noReload") is True, "the admin page never reloaded"
    admin.get_by_role("link", name="Audit log").click()
    expect(admin.locator("tbody")).to_contain_text("deleted")
    check_accessibility(admin)
    screenshot(admin, "15-admin-audit")


def test_an_admin_who_loses_admin_rights_loses_the_admin_pages_at_once(server, new_context):
    server.create_user("chief", PASSWORD, admin=True)
    server.create_user("deputy", PASSWORD, admin=True)
    deputy = new_context().new_page()
    log_in(deputy, server, "deputy")
    deputy.goto(server.url + "/admin/users")
    expect(deputy.locator("h1")).to_have_text("Users")

    chief = new_context().new_page()
    log_in(chief, server, "chief")
    chief.goto(server.url + "/admin/users")
    row = chief.locator("tr", has_text="deputy@example.com")
    row.get_by_role("link", name="Edit deputy").click()
    chief.locator("tr.editing").get_by_label("Admin").uncheck()
    chief.locator("tr.editing").get_by_role("button", name="Save").click()
    expect(chief.locator("tr", has_text="deputy@example.com")).not_to_contain_text("admin")

    expect(deputy.locator("h1")).to_have_text("Not allowed", timeout=2000)
