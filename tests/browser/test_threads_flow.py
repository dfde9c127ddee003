"""Threads as people meet them: ada opens a message's thread beside the room and replies; bob sees
the message's summary change live in the room, opens the panel from it and replies; ada's panel
shows it live; Escape closes the panel (the focus back on the message); the Threads view lists a
follower's thread with unread replies first, and reading it clears them; a phone gets the thread's
own page. Accessible, the panel and the Threads view alike."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import check_accessibility, in_a_new_room, log_in, screenshot

pytestmark = pytest.mark.browser


def posted(page, text: str) -> int:
    """Send text from the page's room composer; the id of the stored message."""
    page.locator("#conversation").get_by_label("Message", exact=True).fill(text)
    page.keyboard.press("Enter")
    message = page.locator("#conversation article.message", has_text=text)
    expect(message).to_have_attribute("data-version", re.compile(r"\d+"))
    return int(message.get_attribute("id").split("-")[1])


def reply(panel, text: str) -> None:
    panel.get_by_label("Message", exact=True).fill(text)
    panel.get_by_label("Message", exact=True).press("Enter")
    expect(panel.locator("[data-messages] article.message[data-version]", has_text=text)).to_be_visible()


def test_a_thread_beside_the_room_live_for_both_and_unread_for_a_follower(server, new_context):
    ada, bob = in_a_new_room(server, new_context, "thada", "thbob", viewport={"width": 1300, "height": 850})
    room_url = ada.url
    message_id = posted(ada, "release on friday?")
    expect(bob.locator(f"#message-{message_id}")).to_be_visible()

    # ada: "⋯" → "Reply in thread": the panel beside the room, the URL the thread's, the focus in its box.
    ada.locator(f"#message-{message_id} [data-menu-button]").click()
    ada.locator(f"#message-{message_id}-actions").get_by_role("link", name="Reply in thread").click()
    panel = ada.locator("#thread-panel")
    expect(panel).to_be_visible()
    expect(ada).to_have_url(re.compile(rf"/chat/messages/{message_id}/thread$"))
    expect(ada.locator("#conversation")).to_be_visible()  # the room stays beside it
    expect(panel.locator("[data-thread-parent]")).to_contain_text("release on friday?")
    expect(panel.get_by_label("Message", exact=True)).to_be_focused()
    assert ada.locator(f"[id='message-{message_id}']").count() == 1  # the panel's copy wears other ids
    reply(panel, "I can do thursday")
    expect(ada.locator("#conversation").get_by_text("I can do thursday")).to_have_count(0)  # not in the room

    # bob sees the summary arrive live under the message, and opens the thread from it.
    summary = bob.locator(f"#message-{message_id} .thread-summary")
    expect(summary).to_contain_text("1 reply")
    expect(summary).to_contain_text("thada")
    summary.click()
    bobs = bob.locator("#thread-panel")
    expect(bobs.locator("[data-messages]")).to_contain_text("I can do thursday")
    check_accessibility(bob)
    screenshot(bob, "90-thread-panel")
    reply(bobs, "thursday works")
    expect(bobs.locator("[data-thread-follow]")).to_have_text("Following")  # he replied: he follows it

    # ada's panel shows bob's reply live; her room's summary says two.
    expect(panel.locator("[data-messages]")).to_contain_text("thursday works")
    expect(ada.locator(f"#message-{message_id} .thread-summary")).to_contain_text("2 replies")

    # ada closes hers with Escape: the room's URL again, the focus back on the message's "⋯".
    panel.get_by_label("Message", exact=True).focus()
    ada.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(ada).to_have_url(room_url)
    expect(ada.locator(f"#message-{message_id} [data-menu-button]")).to_be_focused()

    # bob replies while ada is away from the thread: unread for her, a follower (she replied).
    reply(bobs, "I will book the room")
    booked = bobs.locator("[data-messages] article.message", has_text="I will book the room")
    expect(booked).to_have_class(re.compile(r"\bcontinued\b"))  # grouped under his last, as in a conversation
    threads_entry = ada.locator("[data-threads-unread]")
    expect(threads_entry).to_have_text("1")
    ada.get_by_role("link", name="Threads", exact=True).click()
    expect(ada.locator("#threads-title")).to_have_text("Threads")
    first = ada.locator(".thread-item").first
    expect(first).to_contain_text("release on friday?")
    expect(first.locator(".unread")).to_contain_text("1")
    check_accessibility(ada)
    screenshot(ada, "91-threads-view")

    # Reading it clears it: the thread's own page (a reload of a panel's URL gives it too).
    first.get_by_role("link").click()
    expect(ada).to_have_url(re.compile(rf"/chat/messages/{message_id}/thread$"))
    expect(ada.locator("#conversation[data-thread]")).to_contain_text("I will book the room")
    expect(ada.locator("[data-threads-unread]")).to_be_hidden()
    screenshot(ada, "92-thread-page")
    ada.goto(server.url + "/chat/threads")
    expect(ada.locator(".thread-item").first.locator(".unread")).to_have_count(0)
    ada.go_back()  # the thread's page again, live
    expect(ada.locator("body")).to_have_attribute("data-live", "open")

    # A phone: the summary opens the thread's own page, which replies like a conversation.
    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    log_in(phone, server, "thbob", PASSWORD)
    phone.goto(room_url)
    phone.locator(f"#message-{message_id} .thread-summary").click()
    expect(phone).to_have_url(re.compile(rf"/chat/messages/{message_id}/thread$"))
    expect(phone.locator("#thread-panel")).to_have_count(0)  # a page, not a panel
    expect(phone.locator("#conversation[data-thread]")).to_contain_text("thursday works")
    expect(phone.locator("body")).to_have_attribute("data-live", "open")
    phone.get_by_label("Message", exact=True).fill("from my phone")
    phone.keyboard.press("Enter")
    expect(ada.locator("#conversation[data-thread] [data-messages]")).to_contain_text("from my phone")
    check_accessibility(phone)
    screenshot(phone, "93-thread-phone")



def test_the_threads_entry_counts_replies_and_mentions_live_and_clears_when_read_in_another_tab(server, new_context):
    ada, bob = in_a_new_room(server, new_context, "tcada", "tcbob", viewport={"width": 1300, "height": 850})
    room = int(ada.url.rstrip("/").split("/")[-1])
    ada_token, bob_token = server.api_token("tcada", PASSWORD), server.api_token("tcbob", PASSWORD)
    asked = server.api("POST", f"/api/v1/conversations/{room}/messages", bob_token, {"text": "who reviews?"})["data"]
    thread = server.api("POST", f"/api/v1/messages/{asked['id']}/thread", ada_token)["data"]["id"]
    entry = bob.locator("[data-threads-entry]")
    assert entry.get_attribute("data-thread-counts") == "{}"  # nothing per thread on the page

    # ada replies: bob, the parent's author, follows it now, and its reply is unread for him, live.
    def replied(text: str) -> None:
        server.api("POST", f"/api/v1/conversations/{thread}/messages", ada_token, {"text": text})
    replied("I can")
    expect(entry.locator("[data-threads-unread]")).to_have_text("1")
    expect(entry.locator("[data-threads-mentions]")).to_be_hidden()
    replied("@tcbob have a look at the notes first")  # a mention of him there, unread
    expect(entry.locator("[data-threads-unread]")).to_have_text("2")
    expect(entry.locator("[data-threads-mentions] [data-count-text]")).to_have_text("1")
    expect(ada.locator("[data-threads-entry] [data-threads-unread]")).to_be_hidden()  # her own replies

    # A reload carries the thread's counts, compactly, and the same totals.
    bob.reload()
    expect(entry).to_have_attribute("data-thread-counts", re.compile(rf'"{thread}": ?\[2, ?1\]'))
    expect(entry.locator("[data-threads-unread]")).to_have_text("2")
    expect(bob.locator("body")).to_have_attribute("data-live", "open")

    # Read in another tab (the thread's own page): both counts go, in this tab too.
    other = bob.context.new_page()
    other.goto(f"{server.url}/chat/threads/{thread}")
    expect(other.locator("#conversation[data-thread]")).to_contain_text("have a look")
    expect(entry.locator("[data-threads-unread]")).to_be_hidden()
    expect(entry.locator("[data-threads-mentions]")).to_be_hidden()
    other.close()

    # A thread only shown beside the room, not followed, counts for nothing: ada stops following it.
    ada.locator(f"#message-{asked['id']} .thread-summary").click()
    panel = ada.locator("#thread-panel")
    panel.get_by_role("button", name="Following").click()
    expect(panel.locator("[data-thread-follow]")).to_have_text("Follow")
    server.api("POST", f"/api/v1/conversations/{thread}/messages", bob_token, {"text": "thanks, both"})
    expect(panel.locator("[data-messages]")).to_contain_text("thanks, both")
    expect(ada.locator("[data-threads-entry] [data-threads-unread]")).to_be_hidden()
    expect(entry.locator("[data-threads-unread]")).to_be_hidden()  # his own


def test_thread_replies_made_while_the_server_was_killed_reach_the_open_panel_once(server, new_context):
    """kill -9 with a thread's panel open beside its room; replies are posted and one deleted once
    the server is back: the panel ends showing exactly the replies there are, each once, and the
    room's summary under the message says how many — by itself, caught up by number."""
    from tests.helpers.browser import live_in_general

    page, general, token = live_in_general(server, new_context, "thkill", viewport={"width": 1300, "height": 850})
    said = server.api("POST", f"/api/v1/conversations/{general}/messages", token, {"text": "who has the keys?"})["data"]
    thread = server.api("POST", f"/api/v1/messages/{said['id']}/thread", token)["data"]
    first = server.api("POST", f"/api/v1/conversations/{thread['id']}/messages", token, {"text": "not me"})["data"]
    summary = page.locator(f"#message-{said['id']} .thread-summary")
    expect(summary).to_contain_text("1 reply")
    summary.click()
    panel = page.locator("#thread-panel")
    expect(panel.locator("[data-messages]")).to_contain_text("not me")

    server.kill()
    expect(page.locator("body")).to_have_attribute("data-live", "closed")
    server.start()
    token = server.api_token("thkill", PASSWORD)
    path = f"/api/v1/conversations/{thread['id']}/messages"
    second = server.api("POST", path, token, {"text": "try the front desk"})["data"]
    third = server.api("POST", path, token, {"text": "found them"})["data"]
    server.api("DELETE", f"/api/v1/messages/{first['id']}", token)
    expect(page.locator("body")).to_have_attribute("data-live", "open", timeout=20000)
    replies = panel.locator("[data-messages]")
    expect(replies).to_contain_text("found them", timeout=20000)
    expect(replies).not_to_contain_text("not me")
    for reply_id in (second["id"], third["id"]):
        expect(page.locator(f"[id='message-{reply_id}']")).to_have_count(1)
    expect(summary).to_contain_text("2 replies")
