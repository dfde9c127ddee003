"""Unread is never silently lost: a conversation opens at the first unread under a "New messages"
line and only what was shown is read; arrivals out of sight are counted; counts in the tab title
and on "‹ Conversations"; "Mark unread from here"; permalinks that page forward, with "Jump to
latest", and no live message appended into the past."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import log_in
from tests.helpers.server import Server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("unread"), HUDDLE_POSTS_PER_10_SECONDS="1000")
    yield server
    server.stop()


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


def test_away_while_200_are_posted_opens_at_the_first_unread_and_reads_as_shown(busy_server, new_context):
    una, ned = pair(busy_server, new_context, "una", "ned")
    url = direct(ned, "una", text="before 0")
    post_many(ned, url, "before", 1, 9)
    with una.expect_response(re.compile(r"/read$")):
        una.goto(url)  # all ten shown at the bottom: read
    expect(una).to_have_title("ned · Huddle")
    una.goto(busy_server.url + "/account/sessions")  # away

    post_many(ned, url, "away", 1, 200)
    with una.expect_response(re.compile(r"/read$")):
        una.goto(url)
    line = una.locator("[data-new-line]")
    expect(line).to_have_text("New messages")
    expect(line).to_be_in_viewport()
    first = line.locator("xpath=following-sibling::article[1]")
    expect(first.locator(".message-body")).to_have_text("away 1")
    expect(first).to_be_in_viewport()
    expect(body(una, "before 9")).to_be_attached()  # a little of what was read, above the line
    expect(body(una, "away 200")).to_have_count(0)  # the rest loads on the way down
    # Only what was shown is read: well over a hundred are left (shown "99+").
    assert unread_on_server(una, url) == "99+"
    expect(una).to_have_title("(99+) ned · Huddle")

    # Down to "away 120": read up to about there, no further.
    while body(una, "away 120").count() == 0:
        count = messages(una).count()
        to_bottom(una)
        expect(messages(una)).not_to_have_count(count)
    body(una, "away 120").evaluate("el => el.scrollIntoView({block: 'end'})")
    una.wait_for_function("() => { const n = /^\\((\\d+)\\) /.exec(document.title); return n && +n[1] <= 80; }")
    left = unread_on_server(una, url)
    assert left.isdigit() and 50 < int(left) <= 80, left
    expect(una).to_have_title(f"({left}) ned · Huddle")

    # To the end: everything shown, nothing unread.
    while body(una, "away 200").count() == 0:
        count = messages(una).count()
        to_bottom(una)
        expect(messages(una)).not_to_have_count(count)
    to_bottom(una)
    expect(una).to_have_title("ned · Huddle")
    assert unread_on_server(una, url) == ""
    expect(una.locator("[data-jump-latest]")).to_be_hidden()
    texts = messages(una).locator(".message-body").all_inner_texts()
    assert texts[-200:] == [f"away {n}" for n in range(1, 201)], " / ".join(texts[-205:])  # in order, none twice


def test_arrivals_while_scrolled_up_are_counted_until_seen(busy_server, new_context):
    ivo, jan = pair(busy_server, new_context, "ivo", "jan")
    url = direct(jan, "ivo", text="up 0")
    post_many(jan, url, "up", 1, 40)
    with ivo.expect_response(re.compile(r"/read$")):
        ivo.goto(url + "?latest")
    expect(ivo).to_have_title("jan · Huddle")
    ivo.locator("[data-scroller]").evaluate("el => { el.scrollTop = 0; }")
    expect(body(ivo, "up 40")).not_to_be_in_viewport()

    post_many(jan, url, "new", 1, 2)
    counter = ivo.locator("[data-new-below]")
    expect(counter).to_have_text("2 new messages ↓")
    expect(ivo).to_have_title("(2) jan · Huddle")
    expect(body(ivo, "new 2")).not_to_be_in_viewport()
    counter.click()
    expect(body(ivo, "new 1")).to_be_in_viewport()
    expect(counter).to_be_hidden()
    expect(ivo).to_have_title("jan · Huddle")


def test_mark_unread_from_here_moves_back_in_every_tab(busy_server, new_context):
    kim, lou = pair(busy_server, new_context, "kim", "lou")
    url = direct(lou, "kim", text="mark 1")
    post_many(lou, url, "mark", 2, 8)
    with kim.expect_response(re.compile(r"/read$")):
        kim.goto(url)
    expect(kim).to_have_title("lou · Huddle")
    other_tab = kim.context.new_page()
    other_tab.goto(busy_server.url + "/chat/sidebar")
    conversation = url.rstrip("/").split("/")[-1]
    other_badge = other_tab.locator(f"#conversation-{conversation}-unread")
    expect(other_badge).to_be_hidden()

    message = body(kim, "mark 5")
    message.hover()
    message.get_by_role("button", name="Mark unread from here").click()
    expect(kim).to_have_title("(4) lou · Huddle")  # 5, 6, 7 and 8
    expect(other_badge).to_have_text("4")
    expect(kim.locator(f"#conversation-{conversation}-unread")).to_have_text("4")
    line = kim.locator("[data-new-line]")
    expect(line.locator("xpath=following-sibling::article[1]").locator(".message-body")).to_have_text("mark 5")
    assert unread_on_server(kim, url) == "4"  # shown, yet not read again
    kim.reload()  # coming back: opens at the mark
    expect(kim.locator("[data-new-line]").locator("xpath=following-sibling::article[1]")
           .locator(".message-body")).to_have_text("mark 5")


def test_phone_back_link_shows_news_elsewhere(busy_server, new_context):
    pia, rex = pair(busy_server, new_context, "pia", "rex")
    busy_server.create_user("sal", PASSWORD)
    first = direct(rex, "pia", text="phone 1")
    phone = new_context(viewport={"width": 375, "height": 700}).new_page()
    log_in(phone, busy_server, "pia")
    phone.goto(first)
    back = phone.get_by_role("link", name=re.compile("Conversations"))
    expect(back).to_have_text("‹ Conversations")
    pia.close()
    second = direct(rex, "pia", "sal", text="group news")
    assert second != first
    expect(back).to_have_text(re.compile(r"‹ Conversations\s*• \d+ new"))


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
