"""Unread is never silently lost: a conversation opens at the first unread under a "New messages"
line and only what was shown is read; arrivals out of sight are counted; counts in the tab title
and on "‹ Conversations"; "Mark unread from here". (Permalinks: test_permalinks_flow.py.)"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import log_in
from tests.helpers.pages import body, direct, messages, pair, post_many, to_bottom, unread_on_server
from tests.helpers.server import served

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    yield from served(tmp_path_factory, "unread", HUDDLE_POSTS_PER_10_SECONDS="1000")


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
