"""A conversation does not jump while it loads (issue 23): in real Chromium, the layout shifts a
PerformanceObserver sees (buffered, from the start) add up to less than 0.1 on a room of 30 messages
(two people, formatting, a code block, an image), and the first animation frame that has the
conversation in it already shows it where it opens: at the bottom, or at the first unread."""
from __future__ import annotations

import io
import json
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import log_in
from tests.helpers.server import served
from tests.helpers.uploads import CONTENT_TYPE, body, part

pytestmark = pytest.mark.browser

LINES = (
    "Morning all, standup in ten minutes.",
    "I pushed the fix for the **login redirect**; could someone review it? https://example.com/pr/1423",
    "Here is what I ran:\n```python\nasync def migrate():\n    await Command(tortoise_config).upgrade()\n```",
    "- [x] release notes\n- [ ] screenshots\n- [ ] tell the support team",
    "That was the cache warming up, it's back to normal now.",
)

# Before any of the page's own scripts: every layout shift, and where the conversation's scroller
# stands at each of the first animation frames that have it (a frame runs just before its paint).
WATCH = """
window.__shifts = [];
new PerformanceObserver(function (list) {
  list.getEntries().forEach(function (entry) { if (!entry.hadRecentInput) window.__shifts.push(entry.value); });
}).observe({ type: "layout-shift", buffered: true });
window.__frames = [];
(function next() {
  requestAnimationFrame(function () {
    var box = document.querySelector("[data-scroller]");
    if (box) {
      var line = box.querySelector("[data-new-line]");
      window.__frames.push({
        below: box.scrollHeight - box.scrollTop - box.clientHeight,
        scrolls: box.scrollHeight > box.clientHeight + 100,
        line: line ? line.getBoundingClientRect().top - box.getBoundingClientRect().top : null,
        height: box.clientHeight
      });
    }
    if (window.__frames.length < 3) next();
  });
})();
"""


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    yield from served(tmp_path_factory, "layout-shift", HUDDLE_POSTS_PER_10_SECONDS="1000")


def picture() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.linear_gradient("L").resize((1200, 800)).convert("RGB").save(out, "PNG")
    return out.getvalue()


def upload(server, token: str, data: bytes) -> dict:
    """An image uploaded through the REST API (multipart), not sent yet."""
    payload = body(part("file", data, "chart.png", "image/png"))
    request = urllib.request.Request(server.url + "/api/v1/uploads", method="POST", data=payload, headers={
        "Authorization": f"Bearer {token}", "Content-Type": CONTENT_TYPE})
    return json.load(urllib.request.urlopen(request, timeout=30))["data"]


def thirty_messages(server, room: str, first: str, second: str) -> tuple[dict, dict[str, str]]:
    """A new open room with 30 messages, the two taking turns, the 21st with an image."""
    tokens = {name: server.api_token(name, PASSWORD) for name in (first, second)}
    made = server.api("POST", "/api/v1/conversations", tokens[first], {"room": room})["data"]
    server.api("POST", "/api/v1/conversations", tokens[second], {"room": room})
    for number in range(30):
        author = tokens[(first, second)[number % 2]]
        body: dict = {"text": LINES[number % len(LINES)] + f" ({number + 1})"}
        if number == 20:
            body["attachments"] = [upload(server, author, picture())["id"]]
        server.api("POST", f"/api/v1/conversations/{made['id']}/messages", author, body)
    return made, tokens


def opened(page, url: str) -> tuple[float, list[dict]]:
    """The page loaded and live; its layout shifts' sum and its first frames with the conversation."""
    page.add_init_script(WATCH)
    page.goto(url)
    expect(page.locator("body[data-live='open']")).to_be_attached()
    page.wait_for_function("window.__frames.length >= 3")
    return page.evaluate("window.__shifts.reduce(function (a, b) { return a + b; }, 0)"), page.evaluate(
        "window.__frames")


def test_a_room_of_30_messages_opens_at_its_bottom_and_nothing_moves(busy_server, new_context):
    busy_server.create_user("lena", PASSWORD)
    busy_server.create_user("otto", PASSWORD)
    page = new_context(viewport={"width": 1350, "height": 940}).new_page()
    log_in(page, busy_server, "lena")  # (logging in lands on a conversation: before the room is made)
    room, tokens = thirty_messages(busy_server, "layout", "lena", "otto")
    busy_server.api("POST", f"/api/v1/conversations/{room['id']}/read", tokens["lena"], {})

    shifted, frames = opened(page, f"{busy_server.url}/chat/{room['id']}")

    assert shifted < 0.1, f"cumulative layout shift {shifted:.3f}"
    assert frames[-1]["scrolls"], "30 messages are taller than the conversation's pane"
    assert all(frame["below"] <= 1 for frame in frames), f"not at the bottom when first painted: {frames}"
    expect(page.locator("#conversation article.message").last).to_be_in_viewport()
    expect(page.locator("#conversation .attachment-image svg")).to_have_attribute("width", "420")


def test_a_room_with_unread_messages_opens_at_the_line_from_its_first_paint(busy_server, new_context):
    busy_server.create_user("nora", PASSWORD)
    busy_server.create_user("piet", PASSWORD)
    page = new_context(viewport={"width": 1350, "height": 940}).new_page()
    log_in(page, busy_server, "nora")
    room, tokens = thirty_messages(busy_server, "unread-layout", "piet", "nora")
    for number in range(12):  # nora has read up to her own last message: these are new to her
        busy_server.api("POST", f"/api/v1/conversations/{room['id']}/messages", tokens["piet"],
                        {"text": LINES[number % len(LINES)] + f" (later {number + 1})"})

    shifted, frames = opened(page, f"{busy_server.url}/chat/{room['id']}")

    assert shifted < 0.1, f"cumulative layout shift {shifted:.3f}"
    assert all(frame["line"] is not None and 0 <= frame["line"] <= 100 for frame in frames), \
        f"the New messages line not near the top when first painted: {frames}"
    expect(page.locator("[data-new-line]")).to_be_in_viewport()
