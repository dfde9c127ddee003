"""A real Hypercorn server on a free port and Debian's Chromium driven by Playwright.

Without a browser these tests skip, unless HUDDLE_REQUIRE_BROWSER=1 (as in CI): then they fail.
Each test makes the users it needs (server.create_user), so any one of them runs alone."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS
from tests.helpers.server import served


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Shared by a module's tests: each makes its own users, with names no other test uses."""
    yield from served(tmp_path_factory, "server")


@pytest.fixture(scope="module")
def receiver():
    """A push service of our own for a module's tests (tests/helpers/push_receiver.py)."""
    from tests.helpers.push_receiver import PushReceiver

    made = PushReceiver()
    yield made
    made.close()


@pytest.fixture(scope="module")
def push_server(tmp_path_factory, receiver):
    """A module's server that may push to the receiver (its origin listed)."""
    yield from served(tmp_path_factory, "push", HUDDLE_PUSH_ALLOWED_ORIGINS=receiver.origin)


@pytest.fixture
def empty_server(tmp_path_factory):
    """A server of the test's own, with no accounts yet: for what only the first account sees."""
    yield from served(tmp_path_factory, "empty-server")


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
