"""Search as a person meets it: typing in the header's field shows highlighted results at once,
the keyboard walks them, one opens the message in its conversation, highlighted; the results page
is accessible on a laptop and a phone; "/" reaches the field; and the page works without
JavaScript (a plain form, links for the order and the next page)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import check_accessibility, log_in, screenshot, signed_in
from tests.helpers.server import served

pytestmark = pytest.mark.browser

PERMALINK = re.compile(r"/chat/\d+/messages/(\d+)#message-\1$")  # the fragment: scrolled to without a script too


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Posting fast enough to fill more than a page of results."""
    yield from served(tmp_path_factory, "search", HUDDLE_POSTS_PER_10_SECONDS="1000")


def composer(page):
    return page.get_by_role("textbox", name="Message", exact=True)


def field(page):
    return page.get_by_role("searchbox", name="Search messages")


def send(page, text: str) -> None:
    composer(page).fill(text)
    composer(page).press("Enter")
    expect(page.locator("#conversation article.message:not([data-pending])", has_text=text)).to_be_visible()


def test_typing_shows_highlighted_results_and_one_opens_in_context(server, new_context):
    server.create_user("sia", PASSWORD)
    server.create_user("tom", PASSWORD)
    page = new_context(viewport={"width": 1200, "height": 800}).new_page()
    log_in(page, server, "sia")
    general = int(page.url.rstrip("/").split("/")[-1])
    tom = server.api_token("tom", PASSWORD)
    server.api("POST", f"/api/v1/conversations/{general}/messages", tom,
               {"text": "Has anyone read the wombat deploy notes? https://example.com/wombat-notes"})
    direct = server.api("POST", "/api/v1/conversations", tom, {"usernames": ["sia"]})["data"]["id"]
    server.api("POST", f"/api/v1/conversations/{direct}/messages", tom, {"text": "Wombat lunch on Friday?"})
    send(page, "The quarterly wombat report is ready")
    send(page, "lunch at noon?")
    send(page, "<i>wombat</i> facts, as text")

    field(page).press_sequentially("wombat")
    panel = page.locator("#search-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".search-hit")).to_have_count(4)
    expect(page.locator("[data-search-status]")).to_have_text("Messages found: 4")  # said, for screen readers
    expect(panel.locator("mark").first).to_have_text(re.compile("wombat", re.I))
    expect(panel.locator(".snippet").first).to_contain_text("<i>")  # markup as text
    expect(panel.locator(".search-hit-where").first).to_have_text("#general")
    expect(panel.locator(".search-hit .author").first).to_have_text("sia")

    # The keyboard walks the results (newest first) and back; Escape closes them onto the field.
    field(page).press("ArrowDown")
    expect(panel.locator("[data-search-hit]").first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(panel.locator("[data-search-hit]").nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(field(page)).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(field(page)).to_have_value("wombat")

    # More words narrow it, as one types; the last request wins.
    field(page).press_sequentially(" report")
    expect(panel).to_be_visible()
    expect(panel.locator(".search-hit")).to_have_count(1)
    field(page).press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(PERMALINK)
    highlighted = page.locator("#conversation article.message.highlight")
    expect(highlighted).to_contain_text("The quarterly wombat report is ready")
    expect(highlighted).to_be_in_viewport()

    # "/" anywhere but in a field goes to the search.
    page.locator("#conversation-title").click()
    page.keyboard.press("/")
    expect(field(page)).to_be_focused()

    # Enter opens the results page, which says how to search and orders by relevance too.
    field(page).fill("wombat")
    field(page).press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=wombat$"))
    results = page.get_by_role("list", name="Messages found")
    expect(results.locator(".search-hit")).to_have_count(4)
    expect(results.locator(".search-hit-where")).to_have_text(["#general", "#general", "with tom", "#general"])
    expect(page.locator("time[datetime]").first).not_to_have_text(re.compile("UTC"))  # local time
    check_accessibility(page)
    screenshot(page, "60-search")
    page.screenshot(path="docs/screenshot-search.png")
    page.get_by_role("link", name="Most relevant").click()
    expect(page.get_by_role("link", name="Most relevant")).to_have_attribute("aria-current", "true")

    # Inside one conversation, from its header, with a way to widen.
    page.goto(server.url + "/chat")
    page.locator("[data-conversation-search]").click()
    page.get_by_label("Find messages in #general").fill("lunch")
    page.get_by_label("Find messages in #general").press("Enter")
    expect(page.locator("#search-results .search-hit")).to_have_count(1)
    page.get_by_role("link", name="Search all conversations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")


def in_view(page, locator, width: int) -> None:
    for element in locator.all():
        box = element.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, f"{element.inner_text()} is cut off"


def test_on_a_phone_the_field_keeps_the_header_one_bar(server, new_context):
    server.create_user("phoneadmin", PASSWORD, admin=True)
    page = new_context(viewport={"width": 360, "height": 740}, has_touch=True).new_page()
    log_in(page, server, "phoneadmin")
    assert page.locator(".site-header").bounding_box()["height"] <= 64
    in_view(page, page.locator(".site-nav a, .site-header summary, .site-search"), 360)
    search, menu = page.locator(".site-search").bounding_box(), page.locator(".site-header summary").bounding_box()
    assert search["width"] >= 36 and search["x"] + search["width"] <= menu["x"]
    for link in page.locator(".site-nav a").all():
        box = link.bounding_box()
        assert box["x"] + box["width"] <= search["x"], f"{link.inner_text()} runs under the search field"
    screenshot(page, "62-search-phone-header")
    field(page).focus()  # focused, it takes the bar
    assert field(page).bounding_box()["width"] > 300
    assert page.locator(".site-header").bounding_box()["height"] <= 64


def test_at_phone_width_the_field_the_results_and_the_message(server, new_context):
    page = signed_in(server, new_context, "pho", viewport={"width": 390, "height": 844}, has_touch=True)
    assert page.locator(".site-header").bounding_box()["height"] <= 64
    send(page, "the platypus arrives on Tuesday")
    field(page).press_sequentially("platyp")
    panel = page.locator("#search-panel")
    expect(panel.locator(".search-hit")).to_have_count(1)
    box = panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    check_accessibility(page)
    screenshot(page, "61-search-phone")
    panel.locator(".search-hit-link").click()
    page.wait_for_url(PERMALINK)
    expect(page.locator("#conversation article.message.highlight")).to_contain_text("platypus")

    page.goto(server.url + "/search?q=platypus")
    expect(page.locator("#search-results .search-hit")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    check_accessibility(page)
    page.goto(server.url + "/search?q=nothing-like-this")
    expect(page.get_by_role("heading", name="No messages match")).to_be_visible()
    check_accessibility(page)


def test_without_javascript_the_page_searches_orders_and_pages(server, new_context):
    writer = signed_in(server, new_context, "nojs")
    writer.evaluate("""async () => {
        const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
        const path = new URL(location.href).pathname + '/messages';
        for (let n = 1; n <= 22; n++) {
            const r = await fetch(path, {method: 'POST', headers: {'X-CSRF-Token': token},
                                         body: new URLSearchParams({body: 'echidna number ' + n})});
            if (!r.ok) throw new Error('post ' + r.status);
        }
    }""")
    # With JavaScript, "Older results" brings the next page in under the first, in place.
    writer.goto(server.url + "/search?q=echidna")
    listed = writer.locator("#search-results .search-hit")
    expect(listed).to_have_count(20)
    writer.get_by_role("link", name="Older results").click()
    expect(listed).to_have_count(22)
    expect(listed.last).to_contain_text("echidna number 1")
    expect(writer.get_by_role("link", name="Older results")).to_have_count(0)
    assert writer.url.endswith("/search?q=echidna")

    page = new_context(java_script_enabled=False).new_page()
    log_in(page, server, "nojs")
    form = page.get_by_role("search", name="Search")
    form.get_by_role("searchbox").fill("echidna")
    form.get_by_role("searchbox").press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=echidna$"))
    hits = page.locator("#search-results .search-hit")
    expect(hits).to_have_count(20)
    expect(hits.first).to_contain_text("echidna number 22")
    page.get_by_role("link", name="Older results").click()
    expect(hits).to_have_count(2)
    expect(hits.last).to_contain_text("echidna number 1")
    expect(page.get_by_role("link", name="Older results")).to_have_count(0)
    page.get_by_label("Find messages").fill("echidna 13")
    page.get_by_role("button", name="Search").click()
    expect(hits).to_have_count(1)
    hits.first.get_by_role("link").click()
    page.wait_for_url(PERMALINK)
    expect(page.locator("#conversation article.message", has_text="echidna number 13")).to_be_visible()
