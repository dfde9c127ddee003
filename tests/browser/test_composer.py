"""Nothing typed or sent is lost, in real Chromium against a real server: typing goes on while a
send is in flight, rapid sends each land once and in order, my message shows at once ("Sending…")
and is confirmed in place, Enter sends in "New message" too, and every screen shows one order
(seq), live and after a reload. The server's answers are held with page.route (and a socket's
frames with page.route_web_socket), never with sleeps."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import in_a_new_room

pytestmark = pytest.mark.browser

POSTS = re.compile(r".*/chat/\d+/messages$")


def composer(page):
    return page.get_by_role("textbox", name="Message", exact=True)


def messages(page):
    return page.locator("#conversation [data-messages] > article.message")


def bodies(page) -> list[str]:
    return messages(page).locator(".message-body").all_inner_texts()


def stored_bodies(page) -> list[str]:
    """What the server stored, in conversation order: the page as a reload shows it."""
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-live", "open")
    return bodies(page)


class Held:
    """Holds the page's message posts until released (the first `count` of them, or all)."""

    def __init__(self, page, count: int | None = None) -> None:
        self.routes, self.page, self.count, self.seen = [], page, count, 0
        page.route(POSTS, self.handle)

    def handle(self, route) -> None:
        if route.request.method != "POST":
            return route.continue_()
        self.seen += 1
        if self.count is not None and self.seen > self.count:
            return route.continue_()
        self.routes.append(route)

    def hold(self) -> None:
        self.count = None

    def release(self) -> None:
        self.count = 0
        while self.routes:
            self.routes.pop(0).continue_()


def test_what_is_typed_while_a_send_is_in_flight_is_kept(server, new_context):
    (page,) = in_a_new_room(server, new_context, "kai")
    held = Held(page, count=1)
    box = composer(page)
    box.press_sequentially("first", delay=90)
    box.press("Enter")
    # A code block typed quickly, while "first" waits for its answer, and after it comes.
    box.press_sequentially("def f(x):", delay=90)
    box.press("Shift+Enter")
    box.press_sequentially("    y = x + 1", delay=90)
    held.release()
    box.press("Shift+Enter")
    box.press_sequentially("    return y", delay=90)
    expect(page.locator("[data-pending]")).to_have_count(0)
    code = "def f(x):\n    y = x + 1\n    return y"
    expect(box).to_have_value(code)  # every key kept
    box.press("Enter")
    expect(box).to_have_value("")
    expect(messages(page)).to_have_count(2)
    expect(page.locator("[data-pending]")).to_have_count(0)
    assert stored_bodies(page) == ["first", code]


def test_rapid_sends_each_land_once_in_order(server, new_context):
    (page,) = in_a_new_room(server, new_context, "lea")
    held = Held(page, count=1)  # the first is slow to answer: the others come while it is out
    box = composer(page)
    sent = [f"rapid {n}" for n in range(1, 6)]
    for text in sent:  # as fast as a person can: no waiting between them
        box.press_sequentially(text)
        box.press("Enter")
    held.release()
    expect(page.locator("[data-pending]")).to_have_count(0)
    expect(messages(page)).to_have_count(5)
    assert bodies(page) == sent  # each once, in the order sent
    assert stored_bodies(page) == sent


def test_a_send_that_fails_says_not_sent_keeps_its_text_and_holds_the_next_back(server, new_context):
    (page,) = in_a_new_room(server, new_context, "mona")
    page.route(POSTS, lambda route: route.abort("failed") if route.request.method == "POST" else route.continue_())
    box = composer(page)
    box.fill("did this arrive?")
    box.press("Enter")
    failed = page.locator("[data-pending]", has_text="did this arrive?")
    expect(failed.locator(".send-failed")).to_contain_text("Not sent")
    expect(failed.locator(".message-body")).to_have_text("did this arrive?")  # the text kept
    page.unroute(POSTS)
    box.fill("and this after it")
    box.press("Enter")
    expect(page.locator("[data-pending]", has_text="and this after it").locator(".sending")).to_be_visible()
    failed.get_by_role("button", name="Retry").click()
    expect(page.locator("[data-pending]")).to_have_count(0)
    assert bodies(page) == ["did this arrive?", "and this after it"]
    assert stored_bodies(page) == ["did this arrive?", "and this after it"]


def test_a_send_whose_answer_is_lost_is_stored_and_shown_once(server, new_context):
    (page,) = in_a_new_room(server, new_context, "nia")

    lost = []

    def lose_the_first_answer(route):
        if route.request.method != "POST" or lost:
            return route.continue_()
        lost.append(route.fetch())  # stored, but the answer never reaches the page
        return route.abort("failed")

    page.route(POSTS, lose_the_first_answer)
    composer(page).fill("stored, answer lost")
    composer(page).press("Enter")
    mine = page.locator("article.message", has_text="stored, answer lost")
    expect(mine).to_have_attribute("id", re.compile(r"^message-\d+$"))  # the push confirmed it
    expect(mine.locator(".send-failed")).to_have_count(0)
    composer(page).fill("next one")
    composer(page).press("Enter")  # not held back behind it
    expect(page.locator("[data-pending]")).to_have_count(0)
    assert bodies(page) == ["stored, answer lost", "next one"]
    assert stored_bodies(page) == ["stored, answer lost", "next one"]


def test_my_message_shows_at_once_as_sending_then_is_confirmed_in_place(server, new_context):
    ned, oli = in_a_new_room(server, new_context, "ned", "oli")
    held = Held(ned)
    composer(ned).fill("seen before the answer")
    composer(ned).press("Enter")
    sending = ned.locator("article.message", has_text="seen before the answer")
    expect(sending).to_have_attribute("data-pending", "")
    expect(sending.locator(".sending")).to_have_text("Sending…")
    expect(sending.locator(".author")).to_have_text("ned")
    expect(oli.locator(".message-body", has_text="seen before the answer")).to_have_count(0)  # not stored yet
    held.release()
    expect(sending).not_to_have_attribute("data-pending", "")
    expect(sending).to_have_attribute("id", re.compile(r"^message-\d+$"))
    expect(sending.locator(".sending")).to_have_count(0)
    expect(sending).to_have_count(1)
    held.hold()
    composer(ned).fill("two held at once")
    composer(ned).press("Enter")
    composer(ned).fill("and three")
    composer(ned).press("Enter")
    expect(ned.locator("[data-pending] .sending")).to_have_count(2)  # both shown at once, in order
    assert bodies(ned)[-2:] == ["two held at once", "and three"]
    held.release()
    expect(ned.locator("[data-pending]")).to_have_count(0)
    assert bodies(ned) == ["seen before the answer", "two held at once", "and three"]
    expect(oli.locator(".message-body", has_text="seen before the answer")).to_have_count(1)


def answered(page, answers: list) -> None:
    """Lets Playwright run the route handler on until it holds the answer: each evaluate is a round
    trip in which the handler's greenlet runs (a condition waited on, not a sleep)."""
    for _ in range(10_000):
        if answers:
            return
        page.evaluate("0")
    raise AssertionError("the held post never came back from the server")


def test_the_live_push_confirms_my_message_when_it_beats_the_answer(server, new_context):
    (pia,) = in_a_new_room(server, new_context, "pia")
    answers = []

    def hold_the_answer(route):
        if route.request.method != "POST":
            return route.continue_()
        answers.append((route, route.fetch()))  # stored and pushed live; the answer waits

    pia.route(POSTS, hold_the_answer)
    composer(pia).fill("pushed first")
    composer(pia).press("Enter")
    mine = pia.locator("article.message", has_text="pushed first")
    expect(mine).to_have_attribute("id", re.compile(r"^message-\d+$"))  # confirmed by the push
    expect(mine).to_have_count(1)
    expect(mine.locator(".sending")).to_have_count(0)
    answered(pia, answers)  # the push can come before route.fetch() has handed the answer back
    route, response = answers.pop()
    route.fulfill(response=response)
    composer(pia).fill("and the next")
    pia.unroute(POSTS)
    composer(pia).press("Enter")
    expect(pia.locator("[data-pending]")).to_have_count(0)
    assert bodies(pia) == ["pushed first", "and the next"]  # the late answer added no copy


def test_enter_sends_in_new_message_and_shift_enter_adds_a_line(server, new_context):
    (quin,) = in_a_new_room(server, new_context, "quin")
    server.create_user("rae", PASSWORD)
    quin.goto(server.url + "/chat/new")
    quin.get_by_label("rae").check()
    box = quin.get_by_role("textbox", name="Message", exact=True)
    box.press_sequentially("hello rae")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    expect(box).to_have_value("hello rae\nsecond line")
    box.press("Enter")
    expect(quin.locator("#conversation-title")).to_have_text("rae")
    expect(quin.locator(".message-body")).to_have_text("hello rae\nsecond line")


def test_two_people_sending_at_once_see_one_order_live_and_after_reload(server, new_context):
    sam, tia = in_a_new_room(server, new_context, "sam", "tia")
    # tia's message is stored first, but its push reaches sam's page late (his socket held), after
    # his own message came back from the server: his screen must still put hers first.
    frames, holding = [], [True]

    def hold_frames(ws):
        upstream = ws.connect_to_server()
        ws.on_message(lambda message: upstream.send(message))
        upstream.on_message(lambda message: frames.append(message) if holding[0] else ws.send(message))
        hold_frames.ws = ws

    sam.route_web_socket(re.compile(r".*/live$"), hold_frames)
    sam.reload()
    expect(sam.locator("body")).to_have_attribute("data-live", "open")
    holding[0] = True
    composer(tia).fill("from tia")
    composer(tia).press("Enter")
    expect(tia.locator("[data-pending]")).to_have_count(0)
    composer(sam).fill("from sam")
    composer(sam).press("Enter")
    expect(sam.locator("article.message", has_text="from sam")).to_have_attribute("id", re.compile(r"^message-\d+$"))
    holding[0] = False
    for message in frames:
        hold_frames.ws.send(message)
    expected = ["from tia", "from sam"]
    expect(sam.locator("article.message", has_text="from tia")).to_have_count(1)
    expect(tia.locator("article.message", has_text="from sam")).to_have_count(1)
    assert bodies(sam) == expected
    assert bodies(tia) == expected
    assert stored_bodies(sam) == expected
