"""Names as people see them (issue 18): a display name in messages and the header, a rename that
reaches another browser's open conversation and the renamed person's own header at once, the
old name refused to a newcomer, and a conversation whose other member was deleted not shown as a
second one of the same name."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import account_menu, check_accessibility, log_in
from tests.helpers.server import served

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    yield from served(tmp_path_factory, "names", HUDDLE_REGISTRATION="open")


def message_by(page, text: str):
    return page.locator("#conversation article.message", has=page.locator(".message-body", has_text=text))


def send(page, text: str) -> None:
    page.get_by_role("textbox", name="Message", exact=True).fill(text)
    page.keyboard.press("Enter")
    expect(message_by(page, text).locator(".author")).to_be_visible()


def test_a_display_name_shows_in_messages_and_the_header_and_follows_a_change_live(open_server, new_context):
    server = open_server
    server.create_user("nia", PASSWORD)
    ada = new_context().new_page()
    ada.goto(server.url + "/register")
    ada.get_by_label("Username").fill("ada")
    ada.get_by_label("Display name (optional)").fill("Ada Lovelace")
    ada.get_by_label("Email").fill("ada@example.com")
    ada.get_by_label("Password", exact=True).fill(PASSWORD)
    ada.get_by_label("Confirm password").fill(PASSWORD)
    ada.get_by_role("button", name="Register").click()
    expect(ada).to_have_url(re.compile(r"/chat/\d+$"))
    expect(ada.locator("summary.whoami strong")).to_have_text("Ada Lovelace")
    send(ada, "Analytical engine ready")
    general = ada.url

    nia = new_context().new_page()
    log_in(nia, server, "nia")
    nia.goto(general)
    said = message_by(nia, "Analytical engine ready")
    expect(said.locator(".author")).to_have_text("Ada Lovelace")
    expect(said.locator(".handle")).to_be_hidden()  # nobody else is called anything like it

    # Ada changes her display name in another tab: nia's open page and Ada's own header follow.
    settings = ada.context.new_page()
    settings.goto(server.url + "/account/name")
    check_accessibility(settings)
    settings.get_by_label("Display name").fill("Augusta Ada King")
    settings.get_by_role("button", name="Save").click()
    expect(settings.locator("#display-name-form")).to_contain_text("you are shown as Augusta Ada King")
    expect(said.locator(".author")).to_have_text("Augusta Ada King")
    expect(ada.locator("summary.whoami strong")).to_have_text("Augusta Ada King")
    expect(message_by(ada, "Analytical engine ready").locator(".author")).to_have_text("Augusta Ada King")

    # nia takes the same display name: now both show their @username beside it, live.
    nias_settings = nia.context.new_page()
    nias_settings.goto(server.url + "/account/name")
    nias_settings.get_by_label("Display name").fill("augusta ada king")
    nias_settings.get_by_role("button", name="Save").click()
    expect(said.locator(".handle")).to_be_visible()
    expect(said.locator(".handle")).to_have_text("@ada")


def test_a_rename_reaches_an_open_conversation_and_the_old_name_is_refused_to_a_newcomer(open_server, new_context):
    server = open_server
    server.create_user("boss", PASSWORD, admin=True)
    server.create_user("dan", PASSWORD)
    server.create_user("vera", PASSWORD)

    dan = new_context().new_page()
    log_in(dan, server, "dan")
    send(dan, "dan was here")
    general = dan.url
    vera = new_context().new_page()
    log_in(vera, server, "vera")
    vera.goto(general)
    old = message_by(vera, "dan was here")
    expect(old.locator(".author")).to_have_text("dan")

    admin = new_context(viewport={"width": 1280, "height": 800}).new_page()
    log_in(admin, server, "boss")
    admin.goto(server.url + "/admin/users")
    admin.get_by_role("link", name="Edit dan").click()
    row = admin.locator("tr.editing")
    row.get_by_label("Username").fill("daniel")
    row.get_by_role("button", name="Save").click()
    expect(admin.locator("#toasts")).to_contain_text("Saved daniel.")

    # vera's open page and dan's own (his header too) say daniel at once, without a reload.
    expect(old.locator(".author")).to_have_text("daniel")
    expect(message_by(dan, "dan was here").locator(".author")).to_have_text("daniel")
    expect(dan.locator("summary.whoami strong")).to_have_text("daniel")
    # A reload renders it afresh: still daniel (no stale render kept).
    vera.reload()
    expect(message_by(vera, "dan was here").locator(".author")).to_have_text("daniel")

    # A newcomer cannot become "dan".
    newcomer = new_context().new_page()
    newcomer.goto(server.url + "/register")
    newcomer.get_by_label("Username").fill("dan")
    newcomer.get_by_label("Email").fill("imposter@example.com")
    newcomer.get_by_label("Password", exact=True).fill(PASSWORD)
    newcomer.get_by_label("Confirm password").fill(PASSWORD)
    newcomer.get_by_role("button", name="Register").click()
    expect(newcomer.locator("#username-error")).to_contain_text("belonged to someone before")
    expect(newcomer).to_have_url(re.compile(r"/register"))

    # Until an administrator frees it.
    admin.goto(server.url + "/admin/users")
    admin.locator("#reserved-names").get_by_role("button", name="Free dan").click()
    expect(admin.locator("#flash")).to_contain_text("“dan” is free")
    newcomer.get_by_label("Password", exact=True).fill(PASSWORD)
    newcomer.get_by_label("Confirm password").fill(PASSWORD)
    newcomer.get_by_role("button", name="Register").click()
    expect(newcomer).to_have_url(re.compile(r"/chat/\d+$"))
    account_menu(newcomer)
    expect(newcomer.locator("summary.whoami strong")).to_have_text("dan")


def test_a_group_whose_other_member_was_deleted_is_not_a_second_one_of_the_same_name(server, new_context):
    server.create_user("chief", PASSWORD, admin=True)
    for name in ("rae", "ola", "pim"):
        server.create_user(name, PASSWORD)
    rae = new_context().new_page()
    log_in(rae, server, "rae")
    for people in (["ola"], ["ola", "pim"]):
        rae.goto(server.url + "/chat/new")
        for person in people:
            rae.get_by_label(person, exact=True).check()
        rae.get_by_role("textbox", name="Message", exact=True).fill("hello " + " and ".join(people))
        rae.get_by_role("button", name="Send").click()
        expect(rae.locator(".message-body", has_text="hello " + " and ".join(people))).to_be_visible()

    admin = new_context().new_page()
    admin.on("dialog", lambda dialog: dialog.accept())
    log_in(admin, server, "chief")
    admin.goto(server.url + "/admin/users")
    admin.locator("tr", has_text="pim@example.com").get_by_role("link", name="Delete pim").click()
    expect(admin.locator("tr", has_text="pim@example.com")).to_have_count(0)

    # rae's open page follows (the sidebar is fetched again when the team changes).
    directs = rae.locator("#sidebar h2:has-text('Direct messages') + ul.conversation-list a")
    expect(directs).to_have_text(["ola", "ola, a removed account"])
