"""Tables that hold actions (sessions, admin users, invitations) keep every action in view: on a
phone they become stacked rows, and on a desktop a 30-character name or an open edit row never
pushes Cancel or Delete out of sight behind a sideways scroll."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import check_accessibility, log_in, screenshot

pytestmark = pytest.mark.browser

LONG = "maximilian_alexander_longname"[:29] + "x"  # 30 characters, the longest a name may be


def in_view(page, locator) -> None:
    """Every match is on screen, whole, with no sideways scrolling anywhere on the page."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    for wrap in page.locator(".table-wrap").all():
        assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth"), "a table scrolls sideways"
    assert locator.count() > 0
    for element in locator.all():
        box = element.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, f"{element.inner_text()} is cut off"


@pytest.mark.parametrize("width", [360, 1280])
def test_row_actions_stay_in_view_on_phones_and_with_long_names(server, new_context, width):
    admin_name, long_name = f"tabler{width}", f"{LONG[:-4]}{width}"
    server.create_user(admin_name, PASSWORD, admin=True)
    server.create_user(long_name, PASSWORD)
    other = new_context(user_agent="Mozilla/5.0 (iPhone) AppleWebKit Safari/605").new_page()
    log_in(other, server, admin_name)

    page = new_context(viewport={"width": width, "height": 800}).new_page()
    log_in(page, server, admin_name)
    page.goto(server.url + "/account/sessions")
    # One header bar, even with an administrator's name in the account menu.
    assert page.locator(".site-header").bounding_box()["height"] <= 64
    in_view(page, page.locator(".site-nav a, .site-header summary"))
    menu = page.locator(".site-header summary").bounding_box()
    for link in page.locator(".site-nav a").all():
        box = link.bounding_box()
        assert box["x"] + box["width"] <= menu["x"], f"{link.inner_text()} runs under the account menu"
    in_view(page, page.locator("#sessions").get_by_role("button", name="Log out"))
    # Times read relative, in this browser's zone, the exact time on hover (never "UTC" text).
    last_seen = page.locator("#sessions td[data-label='Last seen'] time").first
    expect(last_seen).to_have_text(re.compile(r"^(just now|\d+ min ago)$"))
    expect(last_seen).to_have_attribute("title", re.compile(r"\d{1,2}:\d{2}"))
    check_accessibility(page)
    screenshot(page, f"30-sessions-{width}")

    page.goto(server.url + "/admin/users")
    row = page.locator("tr", has_text=f"{long_name}@example.com")
    in_view(page, row.get_by_role("link", name=f"Delete {long_name}"))
    in_view(page, page.get_by_role("link", name="Edit", exact=False))
    row.get_by_role("link", name=f"Edit {long_name}").click()
    editing = page.locator("tr.editing")
    expect(editing.get_by_label("Username")).to_have_value(long_name)
    in_view(page, editing.get_by_role("button", name="Save"))
    in_view(page, editing.get_by_role("link", name="Cancel"))
    check_accessibility(page)
    screenshot(page, f"31-admin-edit-{width}")

    page.goto(server.url + "/admin/invitations")
    page.get_by_label("Several people (a team link)").check()
    with page.expect_navigation():  # the form posts and comes back: measure the page it comes back to
        page.get_by_role("button", name="Create link").click()
    in_view(page, page.get_by_role("button", name="Revoke"))
    check_accessibility(page)
