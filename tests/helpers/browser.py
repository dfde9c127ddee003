"""Driving Debian's Chromium through Playwright: page checks shared by the browser tests."""
from __future__ import annotations

import os
import re

from app.config import ROOT
from tests.helpers import PASSWORD

CHROMIUM = os.environ.get("HUDDLE_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "static" / "vendor" / "axe-core-4.14.1.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def check_accessibility(page) -> None:
    """axe-core on the page as it stands: no serious or critical violations."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => (await axe.run()).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id}: ${v.help} @ ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)"""
    )
    assert violations == [], f"{page.url}: {violations}"


def log_in(page, server, name: str, password: str = PASSWORD) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(re.escape(server.url) + r"/chat/\d+$"))  # logging in lands in chat


def account_menu(page):
    """Open the header's account menu (Profile, Sessions, Password, Log out) and return it."""
    menu = page.locator("details.account-menu")
    if menu.get_attribute("open") is None:
        menu.locator("summary").click()
    return menu


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def signed_in(server, new_context, name: str, **options):
    """name's account made and logged in, in a new browser context made with options (a viewport,
    java_script_enabled=False, ...): its page, in chat."""
    server.create_user(name, PASSWORD)
    page = new_context(**options).new_page()
    log_in(page, server, name)
    return page


def live_in_general(server, new_context, name: str, **options) -> tuple:
    """signed_in, its page's live socket open in #general: (the page, #general's id, an API token of
    theirs) for a test that changes things through the API and reads them on the open page."""
    from playwright.sync_api import expect

    page = signed_in(server, new_context, name, **options)
    general = int(page.url.rstrip("/").split("/")[-1])
    expect(page.locator("body")).to_have_attribute("data-live", "open")
    return page, general, server.api_token(name, PASSWORD)


def in_a_new_room(server, new_context, *names: str, **options) -> list:
    """The people logged in (each in a new browser context made with options), each page in a new
    open room of the first one's, which all joined and whose live socket is open."""
    from playwright.sync_api import expect

    pages = [signed_in(server, new_context, name, **options) for name in names]
    first = pages[0]
    first.goto(server.url + "/chat/rooms/new")
    first.get_by_label("Name", exact=True).fill(f"room-{names[0]}")
    first.get_by_role("radio", name="Open").check()
    first.get_by_role("button", name="Create room").click()
    expect(first.locator("#conversation-title")).to_have_text(f"#room-{names[0]}")
    for page in pages[1:]:
        page.goto(first.url)
        page.get_by_role("button", name=f"Join #room-{names[0]}").click()
        expect(page.locator("#conversation-title")).to_have_text(f"#room-{names[0]}")
    for page in pages:
        expect(page.locator("body")).to_have_attribute("data-live", "open")
    return pages
