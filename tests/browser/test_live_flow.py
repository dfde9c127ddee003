"""The live channel as people see it: presence that follows people (and not their clicks), and
a tab closed for being one too many, which says so."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import log_in, screenshot
from tests.helpers.server import served

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tight_server(tmp_path_factory):
    """Two live sockets per browser session, and a 1 s presence grace: limits reached quickly."""
    yield from served(tmp_path_factory, "live-flow",
                      HUDDLE_LIVE_SOCKETS_PER_SESSION="2", HUDDLE_PRESENCE_GRACE_SECONDS="1")


def badge(page, person_id: str):
    return page.locator(f'[data-presence-user="{person_id}"]').first


def test_presence_follows_a_person_but_not_their_page_navigations(tight_server, new_context):
    server = tight_server
    server.create_user("ula", PASSWORD)
    server.create_user("vic", PASSWORD)
    watcher = new_context().new_page()
    log_in(watcher, server, "ula")
    watcher.goto(server.url + "/")  # the People page
    vic_id = watcher.locator("li.person", has_text="vic").locator("[data-presence-user]").get_attribute(
        "data-presence-user"
    )
    expect(badge(watcher, vic_id)).to_have_text("Offline")

    vic = new_context().new_page()
    log_in(vic, server, "vic")
    expect(badge(watcher, vic_id)).to_have_text("Online")  # pushed live, no reload
    flips = []
    watcher.expose_function("noteFlip", lambda text: flips.append(text))
    watcher.evaluate("""id => new MutationObserver(() => window.noteFlip(
        document.querySelector('[data-presence-user="' + id + '"]').textContent))
        .observe(document.querySelector('[data-presence-user="' + id + '"]'),
                 {childList: true, characterData: true, subtree: true})""", vic_id)
    for path in ("/account/sessions", "/users/vic", "/", "/account/password"):
        vic.goto(server.url + path)
        expect(vic.locator("body")).to_have_attribute("data-live", "open")
    screenshot(watcher, "20-presence-online")

    vic.context.close()  # vic leaves for real: after the grace period, offline for ula
    expect(badge(watcher, vic_id)).to_have_text("Offline", timeout=5000)
    # Four navigations and a departure: the badge changed once, when she really left (the
    # departure is the barrier: any Offline/Online flap from the navigations came before it).
    assert flips == ["Offline"]


def test_a_tab_closed_for_being_one_too_many_says_why(tight_server, new_context):
    server = tight_server
    server.create_user("wes", PASSWORD)
    context = new_context()
    first = context.new_page()
    log_in(first, server, "wes")
    expect(first.locator("body")).to_have_attribute("data-live", "open")
    for _ in range(2):  # this session may hold two: the third tab closes the oldest
        tab = context.new_page()
        tab.goto(server.url + "/")
        expect(tab.locator("body")).to_have_attribute("data-live", "open")
    expect(first.locator("body")).to_have_attribute("data-live", "replaced")
    expect(first.locator(".live-replaced")).to_be_visible()
    expect(first.locator(".live-replaced")).to_contain_text("too many tabs")
    screenshot(first, "21-too-many-tabs")
    first.get_by_role("link", name="Reload").click()  # it comes back (and another tab closes)
    expect(first.locator("body")).to_have_attribute("data-live", "open")


def test_the_team_page_and_the_sidebar_follow_who_joins_and_who_is_removed(tight_server, new_context):
    server = tight_server
    server.create_user("wren", PASSWORD, admin=True)
    server.create_user("xena", PASSWORD)
    errors = []
    team = new_context().new_page()
    team.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(team, server, "wren")
    team.goto(server.url + "/")
    expect(team.locator("body")).to_have_attribute("data-live", "open")
    chat = new_context().new_page()
    chat.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(chat, server, "xena")  # lands in a conversation, with the sidebar
    expect(chat.locator("body")).to_have_attribute("data-live", "open")
    members = team.locator("#team li.person")
    before = members.count()

    # Somebody joins (here through the API): both open pages list them, no reload.
    server.api("POST", "/api/v1/users", body={"username": "yuri", "email": "yuri@example.com", "password": PASSWORD})
    expect(team.locator("#team li.person", has_text="yuri")).to_be_visible()
    expect(members).to_have_count(before + 1)
    expect(team.locator("#team .lead")).to_contain_text(f"{before + 1} members")
    expect(chat.locator("#sidebar .people").get_by_role("link", name="yuri")).to_be_visible()
    screenshot(team, "21-team-live-join")

    # An admin removes them from another page: gone from both lists.
    admin = team.context.new_page()
    admin.goto(server.url + "/users/yuri")
    admin.get_by_text("Delete yuri…").click()
    admin.get_by_role("button", name="Delete yuri").click()
    expect(team.locator("#team li.person", has_text="yuri")).to_have_count(0)
    expect(chat.locator("#sidebar .people").get_by_role("link", name="yuri")).to_have_count(0)
    expect(members).to_have_count(before)
    # Presence for people a page does not show, and the list events, find their targets.
    assert [e for e in errors if "oob" in e.lower() or "htmx" in e.lower()] == []
