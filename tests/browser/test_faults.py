"""Faults a person would notice: the server dies and comes back while their page is open."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import log_in, screenshot, signed_in

pytestmark = pytest.mark.browser


def test_an_open_page_reconnects_by_itself_after_the_server_is_killed(server, new_context):
    page = signed_in(server, new_context, "moe")
    expect(page.locator("body")).to_have_attribute("data-live", "open")

    server.kill()
    expect(page.locator("body")).to_have_attribute("data-live", "closed")
    expect(page.locator(".live-status")).to_be_visible()
    screenshot(page, "16-reconnecting")
    server.start()
    # htmx's backoff retries; the page comes back without anyone touching it.
    expect(page.locator("body")).to_have_attribute("data-live", "open", timeout=20000)
    expect(page.locator(".live-status")).to_be_hidden()

    # And it is truly live again: revoking its session from elsewhere logs it out at once.
    other = new_context().new_page()
    log_in(other, server, "moe")
    other.goto(server.url + "/account/sessions")
    other.get_by_role("button", name=re.compile(r"^Log out Chrome")).click()
    expect(page).to_have_url(server.url + "/login?reason=revoked", timeout=3000)
