"""Rooms as people see them: open or closed is a choice the form asks for and contradictions are
refused with nothing typed lost; a rename shows at once in another browser; someone removed, or
whose room is deleted, is told at once and their composer stops (keeping what they typed); an
archived room's composer is off, live and after a reload."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import check_accessibility, log_in

pytestmark = pytest.mark.browser


def closed_room(page, name: str, *members: str) -> str:
    """Make a closed room with these members through the form; its URL."""
    page.locator("#sidebar").get_by_role("link", name="New room").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("radio", name="Closed").check()
    page.get_by_label("Members of a closed room (usernames)").fill(" ".join(members))
    page.get_by_role("button", name="Create room").click()
    expect(page.locator("#conversation-title")).to_have_text(f"#{name}")
    return page.url


def two_people(server, new_context, owner: str, member: str, room: str):
    """The owner's page and the member's page, both on a new closed room, both live."""
    for name in (owner, member):
        server.create_user(name, PASSWORD)
    mine, theirs = new_context().new_page(), new_context().new_page()
    log_in(mine, server, owner)
    log_in(theirs, server, member)
    url = closed_room(mine, room, member)
    theirs.goto(url)
    expect(theirs.locator("#conversation-title")).to_have_text(f"#{room}")
    expect(theirs.locator("body")).to_have_attribute("data-live", "open")
    return mine, theirs


def test_a_new_room_is_chosen_open_or_closed_and_contradictions_are_refused_keeping_the_text(server, new_context):
    server.create_user("rc_owner", PASSWORD)
    server.create_user("rc_friend", PASSWORD)
    page = new_context().new_page()
    log_in(page, server, "rc_owner")
    page.locator("#sidebar").get_by_role("link", name="New room").click()
    expect(page.get_by_role("radio", name="Open")).not_to_be_checked()
    expect(page.get_by_role("radio", name="Closed")).not_to_be_checked()
    page.get_by_label("Name", exact=True).fill("rc-secret")
    page.get_by_label("Topic").fill("just us")
    page.get_by_label("Members of a closed room (usernames)").fill("rc_friend")
    page.get_by_role("button", name="Create room").click()
    expect(page.get_by_text("Choose who can see the room")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("rc-secret")
    expect(page.get_by_label("Members of a closed room (usernames)")).to_have_value("rc_friend")

    page.get_by_role("radio", name="Open").check()
    page.get_by_role("button", name="Create room").click()
    members = page.get_by_label("Members of a closed room (usernames)")
    expect(members).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#members-error")).to_contain_text("An open room is for every member")
    expect(members).to_have_value("rc_friend")
    expect(page.get_by_label("Topic")).to_have_value("just us")
    check_accessibility(page)

    page.get_by_role("radio", name="Closed").check()
    page.get_by_role("button", name="Create room").click()
    expect(page.locator("#conversation-title")).to_have_text("#rc-secret")
    expect(page.get_by_role("link", name="2 members")).to_be_visible()


def test_a_rename_and_topic_show_at_once_in_another_browser(server, new_context):
    mine, theirs = two_people(server, new_context, "rn_owner", "rn_member", "rn-plans")
    mine.get_by_role("link", name="Room settings").click()
    expect(mine.get_by_text("Closing keeps everyone").or_(mine.get_by_text("Opening lists the room"))).to_be_visible()
    check_accessibility(mine)
    mine.get_by_label("Name", exact=True).fill("rn-roadmap")
    mine.get_by_label("Topic").fill("what ships when")
    mine.get_by_role("button", name="Save").click()
    expect(mine.locator("#conversation-title")).to_have_text("#rn-roadmap")
    # The other browser did nothing: its open page follows.
    expect(theirs.locator("#conversation-title")).to_have_text("#rn-roadmap")
    expect(theirs.locator("[data-room-topic]")).to_have_text("what ships when")
    expect(theirs.locator("#sidebar").get_by_role("link", name="#rn-roadmap")).to_be_visible()
    # and so do its tab title and its message box
    expect(theirs).to_have_title("#rn-roadmap · Huddle")
    box = theirs.get_by_role("textbox", name="Message", exact=True)
    expect(box).to_have_attribute("placeholder", "Message #rn-roadmap")


def test_someone_removed_is_told_at_once_and_keeps_what_they_typed(server, new_context):
    mine, theirs = two_people(server, new_context, "rr_owner", "rr_member", "rr-leads")
    box = theirs.get_by_role("textbox", name="Message", exact=True)
    box.fill("half a thought")
    mine.get_by_role("link", name="2 members").click()
    mine.get_by_role("button", name="Remove rr_member").click()
    expect(mine.get_by_role("button", name="Remove rr_member")).to_have_count(0)
    expect(theirs.get_by_role("alert").filter(has_text="You were removed from #rr-leads.")).to_be_visible()
    expect(box).to_be_disabled()
    expect(box).to_have_value("half a thought")
    expect(theirs.get_by_role("button", name="Send")).to_be_disabled()
    expect(theirs.locator("#sidebar").get_by_role("link", name="#rr-leads")).to_have_count(0)


def test_a_deleted_room_is_said_so_at_once_to_who_has_it_open(server, new_context):
    mine, theirs = two_people(server, new_context, "rd_owner", "rd_member", "rd-old")
    mine.get_by_role("link", name="Room settings").click()
    mine.get_by_role("link", name="Delete #rd-old…").click()
    expect(mine.get_by_role("heading", name="Delete #rd-old?")).to_be_visible()
    mine.get_by_role("button", name="Delete #rd-old").click()
    expect(theirs.get_by_role("alert").filter(has_text="#rd-old was deleted.")).to_be_visible()
    expect(theirs.get_by_role("textbox", name="Message", exact=True)).to_be_disabled()


def test_archiving_turns_the_composer_off_live_and_after_a_reload(server, new_context):
    mine, theirs = two_people(server, new_context, "ra_owner", "ra_member", "ra-q3")
    box = theirs.get_by_role("textbox", name="Message", exact=True)
    expect(box).to_be_enabled()
    mine.get_by_role("link", name="Room settings").click()
    mine.get_by_label("Archived").check()
    mine.get_by_role("button", name="Save").click()
    expect(theirs.get_by_text("#ra-q3 is archived: it is read-only.")).to_be_visible()
    expect(box).to_be_disabled()
    theirs.reload()
    expect(theirs.get_by_role("textbox", name="Message", exact=True)).to_be_disabled()
    expect(theirs.get_by_text("#ra-q3 is archived: it is read-only.")).to_be_visible()
    sidebar = theirs.locator("#sidebar")
    sidebar.get_by_text("Archived rooms").click()
    expect(sidebar.get_by_role("link", name="#ra-q3")).to_be_visible()


def test_an_open_room_not_joined_is_a_working_preview_that_follows_the_room(server, new_context):
    for name in ("rp_owner", "rp_reader"):
        server.create_user(name, PASSWORD)
    mine, theirs = new_context().new_page(), new_context().new_page()
    log_in(mine, server, "rp_owner")
    log_in(theirs, server, "rp_reader")
    mine.locator("#sidebar").get_by_role("link", name="New room").click()
    mine.get_by_label("Name", exact=True).fill("rp-news")
    mine.get_by_role("radio", name="Open").check()
    mine.get_by_role("button", name="Create room").click()
    expect(mine.locator("#conversation-title")).to_have_text("#rp-news")
    mine.get_by_role("textbox", name="Message", exact=True).fill("first headline")
    mine.get_by_role("textbox", name="Message", exact=True).press("Enter")
    expect(mine.locator("article[data-pending]")).to_have_count(0)

    errors = []
    theirs.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    theirs.goto(mine.url)
    expect(theirs.locator(".message-body", has_text="first headline")).to_be_visible()
    expect(theirs.get_by_role("textbox", name="Message", exact=True)).to_have_count(0)
    expect(theirs.locator("body")).to_have_attribute("data-live", "open")
    mine.get_by_role("link", name="Room settings").click()
    mine.get_by_label("Name", exact=True).fill("rp-daily")
    mine.get_by_role("button", name="Save").click()
    expect(theirs.locator("#conversation-title")).to_have_text("#rp-daily")
    mine.get_by_role("link", name="Room settings").click()
    mine.get_by_role("link", name="Delete #rp-daily…").click()
    mine.get_by_role("button", name="Delete #rp-daily").click()
    expect(theirs.get_by_role("alert").filter(has_text="#rp-daily was deleted.")).to_be_visible()
    expect(theirs.get_by_role("button", name="Join #rp-news")).to_be_disabled()
    assert not [e for e in errors if "404" in e or "htmx" in e.lower()], errors
