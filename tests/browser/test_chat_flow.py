"""Two people chatting in real Chromium: live messages, typing, edit and delete, unread counts,
and a conversation that catches up after the server is killed while the other person writes."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import account_menu, check_accessibility, log_in, screenshot, signed_in

pytestmark = pytest.mark.browser


def composer(page):
    return page.get_by_role("textbox", name="Message", exact=True)


def send(page, text: str) -> None:
    box = composer(page)
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")  # cleared after the send
    expect(box).to_be_focused()    # and still the place to type
    expect(page.locator("article[data-pending]")).to_have_count(0)  # confirmed in place: its id is the stored one


def messages(page):
    return page.locator("#conversation .messages > article.message")


def test_two_people_chat_live_with_typing_edits_deletes_and_unread(server, new_context):
    server.create_user("ada", PASSWORD)
    server.create_user("ben", PASSWORD)
    ada = new_context().new_page()
    ben = new_context().new_page()
    log_in(ada, server, "ada")
    log_in(ben, server, "ben")
    for page in (ada, ben):
        expect(page.locator("#conversation-title")).to_have_text("#general")
        expect(page.locator("body")).to_have_attribute("data-live", "open")

    # Typing: ben sees it, ada does not see her own; it clears when she sends.
    composer(ada).press_sequentially("hel")
    expect(ben.locator("#typing-indicator")).to_have_text("ada is typing…")
    expect(ada.get_by_text("ada is typing…")).to_have_count(0)
    composer(ada).fill("")
    send(ada, "hello <b>ben</b>\nsecond line https://example.com/x")
    expect(ben.locator("#typing-indicator")).to_have_text("")
    for page in (ada, ben):
        expect(messages(page)).to_have_count(1)  # once each, the sender's answer and push merged
        expect(messages(page).first.locator(".message-body")).to_have_text(
            "hello <b>ben</b>\nsecond line https://example.com/x")
    expect(ben.locator(".message-body a")).to_have_attribute("rel", "noopener noreferrer nofollow ugc")

    # Shift+Enter adds a line instead of sending.
    composer(ben).fill("one")
    composer(ben).press("Shift+Enter")
    composer(ben).press_sequentially("two")
    expect(composer(ben)).to_have_value("one\ntwo")
    composer(ben).press("Enter")
    expect(messages(ada)).to_have_count(2)
    check_accessibility(ben)
    screenshot(ben, "30-chat")
    ben.screenshot(path="docs/screenshot-chat.png")

    # Too long: a clear error beside the composer, the text kept, nothing sent.
    composer(ben).fill("x" * 4001)
    composer(ben).press("Enter")
    expect(ben.locator(".composer .field-error").first).to_contain_text("4,000")
    expect(composer(ben)).to_have_value("x" * 4001)
    expect(messages(ada)).to_have_count(2)
    composer(ben).fill("")

    # Edit in place (Enter saves) reaches the other page; Escape cancels.
    mine = messages(ada).first
    mine.get_by_role("button", name="Message actions").click()
    mine.get_by_role("link", name="Edit").click()
    box = ada.get_by_label("Edit message")
    box.fill("hello ben, edited")
    box.press("Enter")
    expect(ben.locator(".message-body", has_text="hello ben, edited")).to_be_visible()
    expect(ben.locator(".edited")).to_be_visible()
    expect(ben.locator("article.message", has_text="edited").get_by_role("link", name="Edit")).to_be_hidden()
    messages(ada).first.get_by_role("button", name="Message actions").click()
    messages(ada).first.get_by_role("link", name="Edit").click()
    ada.get_by_label("Edit message").press("Escape")
    expect(messages(ada).first.locator(".message-body")).to_have_text("hello ben, edited")
    expect(ada).to_have_url(re.compile(r".*/chat/\d+$"))  # cancelled in place, not a navigation

    # Delete (confirmed) reaches the other page.
    ada.once("dialog", lambda dialog: dialog.accept())
    messages(ada).first.get_by_role("button", name="Message actions").click()
    messages(ada).first.get_by_role("link", name="Delete").click()
    expect(messages(ben)).to_have_count(1)
    expect(messages(ada)).to_have_count(1)

    # Unread: ben opens a direct conversation with ada; her messages in #general count up
    # in his sidebar, and opening #general clears it.
    ben.goto(server.url + "/users/ada")
    ben.get_by_role("link", name="Message", exact=True).click()  # the profile's Message button
    expect(ben).to_have_url(re.compile(r".*/chat/new\?to=ada$"))  # nothing made before the first message
    ben.get_by_role("textbox", name="Message", exact=True).fill("a direct hello")
    ben.get_by_role("button", name="Send").click()
    expect(ben).to_have_url(re.compile(r".*/chat/\d+$"))
    expect(ben.locator("body")).to_have_attribute("data-live", "open")
    send(ada, "are you there?")
    send(ada, "ben?")
    general_unread = ben.locator(".chat-sidebar li", has_text="#general").locator(".unread")
    expect(general_unread).to_have_text("2")
    ben.locator(".chat-sidebar").get_by_role("link", name="#general").click()
    expect(messages(ben).last.locator(".message-body")).to_have_text("ben?")
    # ada's sidebar learned of the new conversation live (its first message made it).
    direct = ada.locator('#sidebar .conversation-list a[href^="/chat/"]', has_text="ben")
    expect(direct).to_be_visible()
    ada.goto(ada.url)
    expect(ada.locator(".conversation-list li", has_text="ben").locator(".unread")).to_have_text("1")


def test_a_conversation_catches_up_after_the_server_is_killed_while_the_other_writes(empty_server, new_context):
    server = empty_server
    server.create_user("cyd", PASSWORD)
    server.create_user("dia", PASSWORD)
    cy = new_context().new_page()
    log_in(cy, server, "cyd")
    send(cy, "before the crash")
    first_id = messages(cy).last.get_attribute("id")
    send(cy, "cy's second")
    expect(cy.locator("body")).to_have_attribute("data-live", "open")

    server.kill()
    expect(cy.locator("body")).to_have_attribute("data-live", "closed")
    composer(cy).fill("a draft typed while down")
    server.start()
    # While cy's page is still away, di posts, edits and deletes.
    di = new_context().new_page()
    log_in(di, server, "dia")
    send(di, "posted while cy was away")
    send(di, "soon deleted")
    di.locator("article.message", has_text="posted while cy").get_by_role("button", name="Message actions").click()
    di.locator("article.message", has_text="posted while cy").get_by_role("link", name="Edit").click()
    di.get_by_label("Edit message").fill("posted and edited while cy was away")
    di.get_by_label("Edit message").press("Enter")
    expect(di.locator(".edited")).to_be_visible()
    di.once("dialog", lambda dialog: dialog.accept())
    di.locator("article.message", has_text="soon deleted").get_by_role("button", name="Message actions").click()
    di.locator("article.message", has_text="soon deleted").get_by_role("link", name="Delete").click()
    expect(di.locator("article.message", has_text="soon deleted")).to_have_count(0)

    # cy's page comes back by itself and catches up: no gap, no duplicate, edits applied.
    expect(cy.locator("body")).to_have_attribute("data-live", "open", timeout=20000)
    expect(cy.locator(".message-body", has_text="posted and edited while cy was away")).to_have_count(1)
    expect(messages(cy)).to_have_count(3)
    expect(cy.locator("article.message", has_text="soon deleted")).to_have_count(0)
    expect(composer(cy)).to_have_value("a draft typed while down")  # nothing typed is lost
    assert cy.locator(f"#{first_id}").count() == 1
    # And the page equals the database: a reload shows the same messages in the same order.
    before = [m.inner_text() for m in messages(cy).locator(".message-body").all()]
    cy.reload()
    after = [m.inner_text() for m in messages(cy).locator(".message-body").all()]
    assert before == after


def test_on_a_phone_the_sidebar_and_the_conversation_are_separate_views(server, new_context):
    phone = signed_in(server, new_context, "eve", viewport={"width": 360, "height": 740}, color_scheme="dark")
    expect(phone.locator("#sidebar")).to_be_hidden()
    expect(composer(phone)).to_be_visible()
    send(phone, "from my phone")
    check_accessibility(phone)
    screenshot(phone, "31-chat-phone")
    phone.get_by_role("link", name="‹ Conversations").click()
    expect(phone.locator("#sidebar")).to_be_visible()
    expect(phone.locator("#sidebar").get_by_role("link", name="#general")).to_be_in_viewport()
    check_accessibility(phone)
    menu = account_menu(phone)  # the account is one menu in the one header bar, on a phone too
    expect(menu.get_by_role("button", name="Log out")).to_be_in_viewport()
    expect(menu.get_by_role("link", name="Sessions")).to_be_visible()
    screenshot(phone, "32-chat-phone-conversations")
    menu.locator("summary").click()
    phone.locator("#sidebar").get_by_role("link", name="#general").click()
    expect(phone.locator(".message-body", has_text="from my phone")).to_be_visible()


def test_a_send_whose_answer_is_lost_keeps_the_text_and_its_retry_is_stored_once(server, new_context):
    server.create_user("fay", PASSWORD)
    page = new_context().new_page()
    # The live push would confirm the stored message by itself (tests/browser/test_composer.py):
    # here the socket's frames are held, so only the lost answer speaks.
    frames = []

    def hold_frames(ws):
        upstream = ws.connect_to_server()
        ws.on_message(lambda message: upstream.send(message))
        upstream.on_message(lambda message: frames.append(message) if frames is not None else ws.send(message))

    page.route_web_socket(re.compile(r".*/live$"), hold_frames)
    log_in(page, server, "fay")
    lost = []

    def lose_the_first_answer(route):
        if route.request.method != "POST" or lost:
            return route.continue_()
        lost.append(route.fetch())  # the server stores it, but the answer never reaches the page
        return route.abort("failed")

    page.route(re.compile(r".*/chat/\d+/messages$"), lose_the_first_answer)
    composer(page).fill("did this arrive?")
    composer(page).press("Enter")
    expect(composer(page)).to_have_value("")
    sent = page.locator("article.message", has_text="did this arrive?")
    failed = sent.locator(".send-failed")
    expect(failed).to_be_visible()
    expect(failed).to_contain_text("Not sent")
    expect(sent.locator(".message-body")).to_have_text("did this arrive?")  # never silently lost
    failed.get_by_role("button", name="Retry").click()
    expect(sent).to_have_attribute("id", re.compile(r"^message-\d+$"))
    expect(sent.locator(".send-failed")).to_have_count(0)
    expect(page.locator(".message-body", has_text="did this arrive?")).to_have_count(1)
    page.reload()
    expect(page.locator(".message-body", has_text="did this arrive?")).to_have_count(1)  # stored once


def test_older_messages_load_above_without_moving_what_the_reader_sees(tmp_path_factory, new_context):
    from tests.helpers.server import Server

    own = Server(tmp_path_factory.mktemp("history-server"), HUDDLE_POSTS_PER_10_SECONDS="1000")
    try:
        own.create_user("gus", PASSWORD)
        page = new_context().new_page()
        log_in(page, own, "gus")
        page.evaluate("""async () => {
            const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
            const conversation = document.getElementById('conversation').dataset.conversation;
            for (let n = 1; n <= 120; n++) {
                await fetch('/chat/' + conversation + '/messages', {method: 'POST', headers: {'X-CSRF-Token': token},
                    body: new URLSearchParams({body: 'history ' + n})});
            }
        }""")
        page.reload()
        expect(messages(page)).to_have_count(50)
        expect(messages(page).last.locator(".message-body")).to_have_text("history 120")
        # One author within 5 minutes: one group (only the first shows the name); times are
        # relative, the exact time in the title.
        expect(messages(page).first).not_to_have_class(re.compile(r"\bcontinued\b"))
        expect(messages(page).nth(1)).to_have_class(re.compile(r"\bcontinued\b"))
        expect(messages(page).nth(1).locator(".author")).to_be_hidden()
        time = messages(page).first.locator("time")
        expect(time).to_have_text(re.compile(r"just now|min ago"))
        expect(time).to_have_attribute("title", re.compile(r"\d"))
        expect(messages(page).first).to_have_class(re.compile(r"\bmine\b"))
        check_accessibility(page)
        scroll = page.locator(".messages-scroll")
        page.wait_for_function(  # opened at the bottom
            "() => { const el = document.querySelector('.messages-scroll');"
            " return el.scrollHeight - el.scrollTop - el.clientHeight < 5; }")
        anchor = page.locator(".message-body", has_text=re.compile(r"^history 71$"))
        offset = "el => el.getBoundingClientRect().top - document.querySelector('.messages-scroll')" \
                 ".getBoundingClientRect().top"
        # Scroll to the top and see where the first message is, at once; note when the older page
        # has settled (htmx:afterSettle, where huddle's scroll code keeps the reader's place: this
        # listener comes after it).
        shown_at = anchor.evaluate(
            "el => { const box = document.querySelector('.messages-scroll');"
            " window.olderSettled = false;"
            " document.addEventListener('htmx:afterSettle', () => { window.olderSettled ="
            "   document.querySelectorAll('#conversation .messages > article.message').length >= 100; });"
            " box.scrollTop = 0;"
            " return el.getBoundingClientRect().top - box.getBoundingClientRect().top; }")
        assert 0 <= shown_at < 200
        expect(messages(page)).to_have_count(100)
        page.wait_for_function("() => window.olderSettled")
        assert abs(anchor.evaluate(offset) - shown_at) < 60  # what the reader saw stays put: no jump
        scroll.evaluate("el => { el.scrollTop = 0; }")
        expect(messages(page)).to_have_count(120)
        expect(messages(page).first.locator(".message-body")).to_have_text("history 1")
        expect(page.get_by_role("link", name="Older messages")).to_have_count(0)

        # A permalink opens the conversation around the message, highlighted and in view.
        page.goto(own.url + messages(page).nth(4).locator("a.permalink").get_attribute("href"))
        highlighted = page.locator("article.message.highlight")
        expect(highlighted.locator(".message-body")).to_have_text("history 5")
        expect(highlighted).to_be_in_viewport()
    finally:
        own.stop()


def test_rooms_members_and_new_message_pages(server, new_context):
    server.create_user("hal", PASSWORD)
    server.create_user("ivy", PASSWORD)
    page = new_context().new_page()
    log_in(page, server, "hal")
    page.locator("#sidebar").get_by_role("link", name="New room").click()
    page.get_by_label("Name", exact=True).fill("ops")
    page.get_by_label("Topic").fill("keeping things up")
    page.get_by_role("radio", name="Closed").check()
    check_accessibility(page)
    page.get_by_role("button", name="Create room").click()
    expect(page.locator("#conversation-title")).to_have_text("#ops")
    send(page, "closed room, hal only")
    page.get_by_role("link", name="1 member").click()
    page.get_by_label("Add someone (username)").fill("ivy")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("button", name="Remove ivy")).to_be_visible()
    check_accessibility(page)
    page.goto(server.url + "/chat/new")
    page.get_by_label("ivy").check()
    page.get_by_role("textbox", name="Message", exact=True).fill("hello ivy")
    check_accessibility(page)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#conversation-title")).to_have_text("ivy")
    expect(page.locator(".message-body", has_text="hello ivy")).to_be_visible()
