"""What the browser tests of a conversation page do and read: its messages, one by its text,
starting a direct conversation, posting many at once from the page, the server's unread count, the
bottom of the scroller, two people logged in (tests/browser/test_unread.py, test_permalinks_flow.py)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import log_in


def messages(page):
    return page.locator("#conversation .messages > article.message")


def body(page, text: str):
    return page.locator("#conversation article.message", has=page.locator(".message-body", has_text=re.compile(
        "^" + re.escape(text) + "$")))


def direct(page, *people: str, text: str) -> str:
    """Start a direct conversation with these people; its URL."""
    page.goto(page.url.split("/chat")[0] + "/chat/new")
    for person in people:
        page.get_by_label(person, exact=True).check()
    page.get_by_role("textbox", name="Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".message-body", has_text=text)).to_be_visible()
    return page.url


def post_many(page, url: str, prefix: str, first: int, last: int) -> None:
    page.evaluate("""async ([url, prefix, first, last]) => {
        const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
        const path = new URL(url).pathname + '/messages';
        for (let n = first; n <= last; n++) {
            const r = await fetch(path, {method: 'POST', headers: {'X-CSRF-Token': token},
                                         body: new URLSearchParams({body: prefix + ' ' + n})});
            if (!r.ok) throw new Error('post ' + r.status);
        }
    }""", [url, prefix, first, last])


def unread_on_server(page, conversation_url: str) -> str:
    """The count the server gives this conversation now (the sidebar, fetched afresh)."""
    conversation = conversation_url.rstrip("/").split("/")[-1]
    return page.evaluate("""async id => {
        const html = await (await fetch('/chat/sidebar')).text();
        const doc = new DOMParser().parseFromString(html, 'text/html');
        const badge = doc.getElementById('conversation-' + id + '-unread');
        return badge.hidden ? '' : badge.textContent.trim();
    }""", conversation)


def to_bottom(page) -> None:
    page.locator("[data-scroller]").evaluate("el => { el.scrollTop = el.scrollHeight; }")


def pair(server, new_context, a: str, b: str):
    server.create_user(a, PASSWORD)
    server.create_user(b, PASSWORD)
    reader = new_context().new_page()
    log_in(reader, server, a)
    writer = new_context().new_page()
    log_in(writer, server, b)
    return reader, writer
