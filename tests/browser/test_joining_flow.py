"""The first day, as an invited person and their admin see it: a link copied with one click (and
there to copy again later), an emailed invitation that knows the address, and a new account that
lands in #general."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import check_accessibility, log_in, screenshot
from tests.helpers.server import served

pytestmark = pytest.mark.browser


@pytest.fixture
def invite_server(tmp_path_factory):
    """Joining by invitation, as a site is by default."""
    yield from served(tmp_path_factory, "invite-server", HUDDLE_REGISTRATION="invite")


def test_an_admin_copies_a_mailed_invitation_and_its_reader_joins_into_general(invite_server, new_context):
    server = invite_server
    server.create_user("ines", PASSWORD, admin=True)
    context = new_context(viewport={"width": 1280, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    admin = context.new_page()
    log_in(admin, server, "ines")
    admin.goto(server.url + "/admin/invitations")
    admin.get_by_label("One person (works once)").check()
    admin.get_by_label("Email it to (optional)").fill("uma@example.com")
    admin.get_by_role("button", name="Create link").click()

    fresh = admin.locator("#new-link")
    expect(fresh).to_have_value(re.compile(re.escape(server.url) + r"/join/\S+$"))
    link = fresh.input_value()
    admin.locator('button[data-copy="new-link"]').click()
    expect(admin.locator("#toasts")).to_contain_text("Link copied.")
    assert admin.evaluate("navigator.clipboard.readText()") == link
    check_accessibility(admin)
    screenshot(admin, "joining-01-link-copied")

    # Later, the link is still there for the admin to copy, in its row.
    admin.reload()
    expect(admin.locator("#new-link")).to_have_count(0)
    row = admin.locator("tr", has_text="uma@example.com")
    expect(row.locator("input.copy-link")).to_have_value(link)
    expect(row.get_by_role("button", name="Copy")).to_be_visible()

    # Uma opens the mailed link: her address is filled in, and she lands in #general.
    uma = new_context().new_page()
    uma.goto(link)
    email = uma.get_by_label("Email")
    expect(email).to_have_value("uma@example.com")
    expect(email).not_to_be_editable()
    uma.get_by_label("Username").fill("uma")
    uma.get_by_label("Password", exact=True).fill(PASSWORD)
    uma.get_by_label("Confirm password").fill(PASSWORD)
    check_accessibility(uma)
    uma.get_by_role("button", name="Register").click()
    uma.wait_for_url(re.compile(re.escape(server.url) + r"/chat/\d+$"))
    expect(uma.locator("#conversation-title")).to_have_text("#general")
    expect(uma.locator("#flash")).to_contain_text("Welcome to Huddle, uma!")
    expect(uma.locator("#composer, textarea[name=body]").first).to_be_visible()
    screenshot(uma, "joining-02-landed-in-general")


def test_without_a_script_the_link_is_text_to_select_and_no_dead_button(invite_server, new_context):
    server = invite_server
    server.create_user("olga", PASSWORD, admin=True)
    page = new_context(java_script_enabled=False).new_page()
    page.goto(server.url + "/login")
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(server.url + "/admin/invitations")
    page.get_by_role("button", name="Create link").click()
    expect(page.locator("#new-link")).to_have_value(re.compile(r"/join/\S+$"))
    expect(page.locator('button[data-copy="new-link"]')).to_be_hidden()
