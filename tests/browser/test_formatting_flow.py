"""Formatting as people meet it: one writes bold, `code` and a fenced block with a very long line;
the other sees it formatted, live; at a phone's width the block scrolls inside the message and
the page never scrolls sideways; its Copy button copies the code; the Formatting help opens with
no script; axe finds nothing serious, light or dark."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import check_accessibility, in_a_new_room, screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 800}
CODE = "total = " + " + ".join(f"value_{n}" for n in range(40)) + "\nprint(total)"


def test_formatting_is_shown_and_a_long_code_block_scrolls_inside_its_message(server, new_context):
    fae, gus = in_a_new_room(server, new_context, "fae", "gus", viewport=PHONE,
                             permissions=["clipboard-read", "clipboard-write"])
    box = fae.get_by_role("textbox", name="Message", exact=True)
    box.fill("**bold** and `code`")
    box.press("Enter")
    box.fill(f"```python\n{CODE}\n```")
    box.press("Enter")

    messages = gus.locator("#conversation [data-messages] > article.message .message-body")
    expect(messages).to_have_count(2)  # live, for the other person
    first, second = messages.nth(0), messages.nth(1)
    expect(first.locator("strong")).to_have_text("bold")
    expect(first.locator("code")).to_have_text("code")
    pre = second.locator("pre")
    expect(pre.locator("span.k, span.nb, span.n").first).to_be_visible()  # highlighted by the server
    expect(pre).to_have_text(CODE)

    sizes = pre.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert sizes[0] > sizes[1]  # the line is longer than the block: it scrolls there
    page_width = gus.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert page_width[0] <= page_width[1]  # and the page does not scroll sideways
    box_right = second.evaluate("el => el.getBoundingClientRect().right")
    assert box_right <= PHONE["width"]

    copy = second.get_by_role("button", name="Copy code")
    expect(copy).to_be_visible()  # shown by copy.js
    copy.click()
    expect(gus.locator("#toasts")).to_contain_text("Code copied.")
    assert gus.evaluate("navigator.clipboard.readText()") == CODE

    screenshot(gus, "80-formatting-phone")
    help_ = gus.locator("details.formatting-help")
    help_.locator("summary").click()
    expect(help_.locator("dl")).to_be_visible()
    check_accessibility(gus)
    gus.emulate_media(color_scheme="dark")
    check_accessibility(gus)
    screenshot(gus, "81-formatting-phone-dark")
