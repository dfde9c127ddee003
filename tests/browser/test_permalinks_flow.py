"""Permalinks page forward, with "Jump to latest", and no live message is ever appended into the
past: a permalink tab stays where it is while this person or another tab sends."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers.pages import body, direct, messages, pair, post_many, to_bottom
from tests.helpers.server import served

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    yield from served(tmp_path_factory, "permalinks", HUDDLE_POSTS_PER_10_SECONDS="1000")


def test_permalink_pages_forward_jumps_to_latest_and_never_appends_into_the_past(busy_server, new_context):
    mia, odo = pair(busy_server, new_context, "mia", "odo")
    url = direct(odo, "mia", text="perm 0")
    post_many(odo, url, "perm", 1, 130)
    mia.goto(url)
    link = body(mia, "perm 10").locator("a.permalink").get_attribute("href")
    mia.goto(busy_server.url + link)
    expect(mia.locator("article.message.highlight .message-body")).to_have_text("perm 10")
    jump = mia.get_by_role("link", name="Jump to latest")
    expect(jump).to_be_visible()

    # A live message while the newest are not on the page: counted, not put after "perm 35".
    post_many(odo, url, "live", 1, 1)
    counter = mia.locator("[data-new-below]")
    expect(counter).to_have_text("1 new message ↓")
    expect(body(mia, "live 1")).to_have_count(0)

    # Scrolling down brings every newer message, in order, then the live one.
    while body(mia, "live 1").count() == 0:
        count = messages(mia).count()
        to_bottom(mia)
        expect(messages(mia)).not_to_have_count(count)
    texts = messages(mia).locator(".message-body").all_inner_texts()
    assert texts[texts.index("perm 10"):] == [f"perm {n}" for n in range(10, 131)] + ["live 1"]
    expect(jump).to_be_hidden()

    # From a permalink again, "Jump to latest" goes to the newest, at the bottom.
    mia.goto(busy_server.url + link)
    mia.get_by_role("link", name="Jump to latest").click()
    expect(messages(mia).last.locator(".message-body")).to_have_text("live 1")
    expect(messages(mia).last).to_be_in_viewport()


def test_sending_from_a_permalink_goes_to_the_latest_never_into_the_past(busy_server, new_context):
    """As in other chats, sending from a page that does not hold the newest messages (a permalink)
    takes one to the latest, in place: the newest page replaces the past first, then my message goes
    in after the newest; never after the message the permalink showed. What is typed meanwhile stays."""
    vic, wes = pair(busy_server, new_context, "vic", "wes")
    url = direct(wes, "vic", text="send 0")
    post_many(wes, url, "send", 1, 130)
    vic.goto(url)
    link = body(vic, "send 10").locator("a.permalink").get_attribute("href")
    vic.goto(busy_server.url + link)
    expect(vic.get_by_role("link", name="Jump to latest")).to_be_visible()
    vic.evaluate("""() => {  // every place my "Sending…" message is ever put: after what?
        window.__noReload = true;
        window.__after = [];
        const list = document.querySelector('[data-messages]');
        new MutationObserver(() => list.querySelectorAll(':scope > [data-pending]').forEach(el => {
            const before = el.previousElementSibling && el.previousElementSibling.querySelector('.message-body');
            window.__after.push(before ? before.textContent : '');
        })).observe(list, {childList: true});
    }""")
    held = []
    vic.route(re.compile(r"/messages\?latest=1$"), lambda route: held.append(route))

    box = vic.get_by_role("textbox", name="Message", exact=True)
    box.fill("my reply")
    with vic.expect_request(re.compile(r"/messages\?latest=1$")):
        box.press("Enter")
    box.press_sequentially("and more", delay=20)
    assert vic.evaluate("window.__after") == [], "shown in the past while the newest are on their way"
    assert len(held) == 1, "the newest page was not asked for"
    held.pop().continue_()

    mine = body(vic, "my reply")
    expect(mine).to_have_count(1)
    expect(mine).not_to_have_attribute("data-pending", re.compile(".*"))
    expect(messages(vic).last).to_have_attribute("id", mine.get_attribute("id"))
    expect(mine.locator("xpath=preceding-sibling::article[1]").locator(".message-body")).to_have_text("send 130")
    expect(mine).to_be_in_viewport()
    expect(vic.get_by_role("link", name="Jump to latest")).to_be_hidden()
    expect(vic.locator("[data-newer]")).to_have_count(0)
    expect(box).to_have_value("and more")
    assert vic.evaluate("window.__noReload") is True, "sending navigated away"
    assert set(vic.evaluate("window.__after")) == {"send 130"}, "shown after something else than the newest"
    assert "/messages/" not in vic.url  # a reload shows the latest, not the permalink again

    # Scrolling up still brings the past, in order, above the newest page.
    texts = messages(vic).locator(".message-body").all_inner_texts()
    assert texts[-1] == "my reply"
    assert texts[:-1] == [f"send {n}" for n in range(131 - len(texts) + 1, 131)]
    vic.reload()
    expect(messages(vic).last.locator(".message-body")).to_have_text("my reply")


def test_my_other_tab_sending_leaves_a_permalink_tab_where_it_is(busy_server, new_context):
    """My other tab sends while this one reads the past on a permalink: this one stays where its
    reader is, with what is typed in it (it used to load the latest page, losing the text), and the
    message is not put into the past."""
    xan, yul = pair(busy_server, new_context, "xan", "yul")
    url = direct(yul, "xan", text="past 0")
    post_many(yul, url, "past", 1, 130)
    xan.goto(url)
    link = body(xan, "past 10").locator("a.permalink").get_attribute("href")
    xan.goto(busy_server.url + link)
    expect(xan.get_by_role("link", name="Jump to latest")).to_be_visible()
    xan.evaluate("""() => {
        window.__noReload = true;
        window.__seqs = [];
        document.addEventListener('live:seq', e => window.__seqs.push(e.detail.kind));
    }""")
    box = xan.get_by_role("textbox", name="Message", exact=True)
    box.fill("half a reply")

    other = xan.context.new_page()
    other.goto(url)
    other.get_by_role("textbox", name="Message", exact=True).fill("from my other tab")
    other.get_by_role("textbox", name="Message", exact=True).press("Enter")
    expect(body(other, "from my other tab")).not_to_have_attribute("data-pending", re.compile(".*"))

    xan.wait_for_function("window.__seqs && window.__seqs.indexOf('message.created') >= 0")
    assert xan.evaluate("window.__noReload") is True, "the permalink tab navigated away"
    expect(box).to_have_value("half a reply")
    assert "/messages/" in xan.url
    expect(body(xan, "from my other tab")).to_have_count(0)  # not put after the past
    expect(xan.get_by_role("link", name="Jump to latest")).to_be_visible()
