"""A program on the JSON websocket and a person in Chromium, in one conversation: each sees what
the other writes, live, through the same rules and broker."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect
from websockets.sync.client import connect

from tests.helpers import PASSWORD
from tests.helpers.browser import check_accessibility, log_in

pytestmark = pytest.mark.browser


def act(socket, action: str, data: dict | None = None) -> dict:
    socket.send(json.dumps({"action": action, "data": data or {}}))
    return next_frame(socket, lambda f: f.get("action") == action)


def next_frame(socket, test) -> dict:
    while True:
        frame = json.loads(socket.recv(timeout=5))
        if test(frame):
            return frame


def test_a_bot_and_a_person_see_each_other_live(server, new_context):
    server.create_user("cyd", PASSWORD)
    server.create_user("beepbot", PASSWORD)
    page = new_context().new_page()
    log_in(page, server, "cyd")
    expect(page.locator("#conversation-title")).to_have_text("#general")
    expect(page.locator("body")).to_have_attribute("data-live", "open")
    messages = page.locator("#conversation .messages > article.message")
    before = messages.count()

    with connect(server.url.replace("http", "ws") + "/api/v1/ws") as bot:  # a program: no Origin, no cookie
        me = act(bot, "login", {"username": "beepbot", "password": PASSWORD})["data"]["user"]
        general = next(c for c in act(bot, "conversations")["data"] if c["name"] == "general")
        assert me["username"] == "beepbot"

        # The bot types, then writes: the person sees both, live.
        act(bot, "typing", {"conversation_id": general["id"], "state": "start"})
        expect(page.locator("#typing-indicator")).to_have_text("beepbot is typing…")
        sent = act(bot, "send", {"conversation_id": general["id"], "text": "beep <boop> from the bot"})["data"]
        expect(messages).to_have_count(before + 1)
        expect(messages.last.locator(".message-body")).to_have_text("beep <boop> from the bot")
        expect(page.locator("#typing-indicator")).to_have_text("")

        # The person answers in the page: the bot hears it.
        box = page.get_by_role("textbox", name="Message", exact=True)
        box.fill("hello, bot")
        box.press("Enter")
        heard = next_frame(bot, lambda f: f.get("action") == "message.created" and f["data"]["author"] == "cyd")
        assert heard["data"]["text"] == "hello, bot"

        # The bot edits its message: the page shows the new text in place.
        act(bot, "edit", {"message_id": sent["id"], "text": "beep, edited"})
        expect(page.locator(f"#message-{sent['id']} .message-body")).to_have_text("beep, edited")



def test_the_api_docs_page_lists_every_endpoint_and_reads_well(server, new_context):
    page = new_context().new_page()
    page.goto(server.url + "/docs/api")
    expect(page.get_by_role("heading", name="The Huddle API")).to_be_visible()
    for endpoint in ("POST /api/v1/login", "GET /api/v1/conversations/{conversation_id}/messages",
                     "PATCH /api/v1/messages/{message_id}"):
        expect(page.get_by_role("heading", name=endpoint)).to_be_visible()
    expect(page.get_by_role("link", name="its OpenAPI document")).to_have_attribute("href", "/api/v1/openapi.json")
    check_accessibility(page)
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "no sideways scrolling on a phone"
