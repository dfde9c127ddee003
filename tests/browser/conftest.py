"""A real Hypercorn server on a free port and Debian's Chromium driven by Playwright.

Without a browser these tests skip, unless HUDDLE_REQUIRE_BROWSER=1 (as in CI): then they fail."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from app.config import ROOT
from tests.helpers.server import Server

PASSWORD = "a long enough password"
CHROMIUM = os.environ.get("HUDDLE_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "static" / "vendor" / "axe-core-4.14.1.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("server"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    # Module scope: sync Playwright keeps an event loop running in this thread while it is
    # open, which the async tests in other modules must not find.
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        if os.environ.get("HUDDLE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"HUDDLE_REQUIRE_BROWSER=1 but no browser at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser):
    """Fresh browser profiles (cookie jars); axe is injected past our CSP only by the test."""
    contexts = []

    def make(**options):
        context = browser.new_context(bypass_csp=True, **options)
        context.set_default_timeout(5000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


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
    page.wait_for_url(server.url + "/")


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
