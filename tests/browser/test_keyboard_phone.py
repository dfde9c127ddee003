"""Phones and keyboards: a message's actions wait in its "⋯" menu (no Edit or Delete under every
message on a phone), menus open by tap and by key and close with Escape onto their button, Up
arrow edits one's last message, Ctrl+K switches conversation, skip links reach the composer, and
an inline edit opens wholly in view."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import check_accessibility, log_in, signed_in

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 640}, "has_touch": True, "is_mobile": True}


def composer(page):
    return page.get_by_role("textbox", name="Message", exact=True)


def send(page, text: str):
    composer(page).fill(text)
    composer(page).press("Enter")
    message = page.locator("#conversation article.message:not(.pending)", has_text=text)
    expect(message).to_be_visible()
    return message


def menu_button(message):
    return message.get_by_role("button", name="Message actions")


def test_on_a_phone_actions_wait_in_a_menu_opened_by_touch_or_key(server, new_context):
    server.create_user("kp_admin", PASSWORD, admin=True)
    other = signed_in(server, new_context, "kp_user")
    theirs = send(other, "from kp_user, not the admin's")

    page = new_context(**PHONE).new_page()
    log_in(page, server, "kp_admin")
    mine = send(page, "from the admin on a phone")
    theirs = page.locator("article.message", has_text="from kp_user, not the admin's")
    expect(theirs).to_be_visible()
    # No Edit or Delete anywhere until a menu opens.
    expect(page.locator("#conversation").get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.locator("#conversation").get_by_role("link", name="Delete")).to_have_count(0)
    # Touch: a tap opens someone else's message's menu: Delete (admin) and Copy link, no Edit.
    button = menu_button(theirs)
    expect(button).to_have_attribute("aria-expanded", "false")
    button.tap()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(theirs.get_by_role("link", name="Delete")).to_be_visible()
    expect(theirs.get_by_role("link", name="Copy link")).to_be_visible()
    expect(theirs.get_by_role("link", name="Edit")).to_have_count(0)
    box = theirs.get_by_role("link", name="Delete").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360, "the menu is cut off"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    check_accessibility(page)
    # A tap elsewhere closes it; on one's own message the menu has Edit too; one open at a time.
    page.locator("#conversation-title").tap()
    expect(button).to_have_attribute("aria-expanded", "false")
    menu_button(mine).tap()
    expect(mine.get_by_role("link", name="Edit")).to_be_visible()
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(menu_button(mine)).to_have_attribute("aria-expanded", "false")
    page.locator("#conversation-title").tap()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#conversation").get_by_role("link", name="Delete")).to_have_count(0)

    # Keyboard: Enter on the button opens, Tab reaches Edit, Escape closes onto the button.
    menu_button(mine).focus()
    page.keyboard.press("Enter")
    expect(menu_button(mine)).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(mine.get_by_role("link", name="Edit")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu_button(mine)).to_have_attribute("aria-expanded", "false")
    expect(menu_button(mine)).to_be_focused()
    expect(mine.get_by_role("link", name="Edit")).to_have_count(0)
    page.keyboard.press("Space")
    expect(mine.get_by_role("link", name="Edit")).to_be_visible()


# What a message's head and "⋯" show, each as its boxes on screen (the body as its lines of text,
# which flow around a continued message's head): [name, [x, y, width, height]...], visible ones only.
HEAD_BOXES = """article => {
    const boxes = [];
    const shown = el => el && el.checkVisibility({opacityProperty: true, visibilityProperty: true});
    for (const [name, selector] of [["author", ".author"], ["handle", ".handle"], ["time", "time"],
                                    ["edited", ".edited"], ["mark unread", "[data-mark-unread]"],
                                    ["menu button", "[data-menu-button]"]]) {
        const el = article.querySelector(selector);
        if (!shown(el)) continue;
        const r = el.getBoundingClientRect();
        if (r.width && r.height) boxes.push([name, [r.x, r.y, r.width, r.height]]);
    }
    // Its text nodes' lines, not its paragraphs' boxes (a paragraph spans the width under the head).
    const walker = document.createTreeWalker(article.querySelector(".message-body"), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const r of range.getClientRects()) if (r.width) boxes.push(["text", [r.x, r.y, r.width, r.height]]);
    }
    const a = article.getBoundingClientRect();
    boxes.push(["article", [a.x, a.y, a.width, a.height]]);
    return boxes;
}"""


def assert_nothing_overlaps(message, *, expect_shown: tuple[str, ...]) -> None:
    boxes = message.evaluate(HEAD_BOXES)
    article = boxes.pop()[1]
    names = {name for name, _ in boxes}
    assert set(expect_shown) <= names, f"not shown: {set(expect_shown) - names}"
    for name, (x, _y, w, _h) in boxes:
        assert article[0] - 0.5 <= x and x + w <= article[0] + article[2] + 0.5, f"{name} sticks out of its message"
    for i, (one, a) in enumerate(boxes):
        for other, b in boxes[i + 1:]:
            if one == other == "text":
                continue
            overlap_x = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
            overlap_y = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
            assert overlap_x <= 0.5 or overlap_y <= 0.5, f"{one} overlaps {other}: {a} {b}"


@pytest.mark.parametrize("width", [1280, 390])
def test_a_messages_head_never_overlaps_its_text_or_its_menu_button(server, new_context, width):
    """Author, time, "Mark unread from here", the "⋯" button and the text each have their own
    place, on the first message of a group and on the ones that continue it (whose head shows on
    hover, or on a phone's width with the menu), at desktop and phone widths."""
    name = f"kh_{width}_someone_with_a_long_name"[:30]
    page = signed_in(server, new_context, name, viewport={"width": width, "height": 800})
    words = " ".join(["a long line of words that fills the whole width of the message"] * 4)
    first = send(page, f"{width}, first of a group: {words}")
    continued = send(page, f"{width}, continued: {words}")
    short = send(page, f"ok, {width}")
    expect(continued).to_have_class(re.compile(r"\bcontinued\b"))
    expect(short).to_have_class(re.compile(r"\bcontinued\b"))
    for message in (first, continued, short):
        message.hover()
        if width < 640 and message != first:  # a phone's width: no room taken until the menu opens
            expect(message.locator("time")).to_be_hidden()
            menu_button(message).click()
        expect(message.get_by_role("button", name="Mark unread from here")).to_be_visible()
        expected = ("time", "mark unread", "menu button", "text") + (("author",) if message == first else ())
        assert_nothing_overlaps(message, expect_shown=expected)
        page.keyboard.press("Escape")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_an_edited_continued_message_says_edited_without_hovering(server, new_context):
    """A group's later message hid "(edited)" with its time until hovered: the screen said an
    edited message was as written. The time waits for hover; "(edited)" is always there."""
    page = signed_in(server, new_context, "kx_user", viewport={"width": 1280, "height": 800})
    send(page, "kx_user's first")
    continued = send(page, "kx_user's second, with a tpyo")
    composer(page).press("ArrowUp")
    page.get_by_label("Edit message").fill("kx_user's second, fixed")
    page.get_by_label("Edit message").press("Enter")
    continued = page.locator("#conversation article.message", has_text="kx_user's second, fixed")
    expect(continued).to_have_class(re.compile(r"\bcontinued\b"))
    page.locator("#conversation-title").hover()  # the pointer elsewhere
    page.locator("#conversation-title").click()
    edited = continued.locator(".edited")
    expect(edited).to_have_text("(edited)")
    assert edited.evaluate("el => el.checkVisibility({opacityProperty: true})"), "(edited) is invisible"
    assert not continued.locator("time").evaluate("el => el.checkVisibility({opacityProperty: true})")
    continued.hover()
    assert_nothing_overlaps(continued, expect_shown=("time", "edited", "mark unread", "menu button", "text"))


def test_on_a_touch_phone_a_continued_message_shows_its_time_and_mark_unread_with_its_menu(server, new_context):
    page = signed_in(server, new_context, "kt_user", **PHONE)
    words = " ".join(["a long line of words that fills the whole width"] * 3)
    send(page, "kt_user's first of a group")
    continued = send(page, f"kt_user continued: {words}")
    expect(continued).to_have_class(re.compile(r"\bcontinued\b"))
    expect(continued.locator("time")).to_be_hidden()  # no room taken from the text on a phone
    menu_button(continued).tap()
    expect(continued.get_by_role("button", name="Mark unread from here")).to_be_visible()
    assert_nothing_overlaps(continued, expect_shown=("time", "mark unread", "menu button", "text"))


def test_escape_returns_focus_to_the_messages_menu_button_and_closes_the_account_menu(server, new_context):
    page = signed_in(server, new_context, "ke_user")
    mine = send(page, "edited, then not")
    menu_button(mine).click()
    mine.get_by_role("link", name="Edit").click()
    box = page.get_by_label("Edit message")
    expect(box).to_be_focused()
    box.press("Escape")
    expect(page.locator("form.edit-message")).to_have_count(0)
    expect(menu_button(mine)).to_be_focused()  # not the top of the page

    summary = page.locator("details.account-menu summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator("details.account-menu")).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    expect(page.locator("details.account-menu").get_by_role("link", name="Profile")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("details.account-menu")).not_to_have_attribute("open", re.compile(".*"))
    expect(summary).to_be_focused()


def test_one_escape_in_an_inline_edit_sends_one_request(server, new_context):
    """Escape cancels an inline message edit with exactly one GET of the message (there were two
    handlers: two identical GETs), whether the edit was opened from the menu or by Up arrow."""
    page = signed_in(server, new_context, "k1_user")
    mine = send(page, "cancelled once")
    requests = []
    page.on("request", lambda request: requests.append((request.method, request.url)))

    def escape_counts(opened_by) -> None:
        opened_by()
        box = page.get_by_label("Edit message")
        expect(box).to_be_focused()
        requests.clear()
        box.press("Escape")
        expect(page.locator("form.edit-message")).to_have_count(0)
        expect(menu_button(mine)).to_be_focused()
        # A second handler would have sent its GET in the same keydown, before the first one's
        # answer closed the form: it would be in `requests` already.
        gets = [url for method, url in requests if method == "GET"]  # (reading may POST)
        assert len(gets) == 1 and re.search(r"/chat/messages/\d+$", gets[0]), requests

    def from_the_menu():
        menu_button(mine).click()
        mine.get_by_role("link", name="Edit").click()

    def by_up_arrow():
        composer(page).press("ArrowUp")

    escape_counts(from_the_menu)
    escape_counts(by_up_arrow)


def test_up_arrow_in_an_empty_composer_edits_ones_last_message(server, new_context):
    page = signed_in(server, new_context, "ku_user")
    send(page, "an older one")
    send(page, "the last one, with a typo")
    composer(page).fill("not empty")
    composer(page).press("ArrowUp")
    expect(page.locator("form.edit-message")).to_have_count(0)  # a draft is left alone
    composer(page).fill("")
    composer(page).press("ArrowUp")
    box = page.get_by_label("Edit message")
    expect(box).to_be_focused()
    expect(box).to_have_value("the last one, with a typo")
    box.fill("the last one, fixed")
    box.press("Enter")
    expect(page.locator(".message-body", has_text="the last one, fixed")).to_be_visible()


def test_ctrl_k_switches_conversation_by_name(server, new_context):
    page = signed_in(server, new_context, "kk_user")
    page.locator("#sidebar").get_by_role("link", name="New room").click()
    page.get_by_label("Name", exact=True).fill("kk-ops")
    page.get_by_role("radio", name="Open").check()
    page.get_by_role("button", name="Create room").click()
    expect(page.locator("#conversation-title")).to_have_text("#kk-ops")

    page.keyboard.press("Control+k")
    dialog = page.get_by_role("dialog", name="Go to a conversation")
    expect(dialog).to_be_visible()
    query = dialog.get_by_label("Go to conversation")
    expect(query).to_be_focused()
    expect(dialog.get_by_role("link", name="#kk-ops")).to_be_visible()
    query.press_sequentially("gene")
    expect(dialog.get_by_role("link", name="#kk-ops")).to_have_count(0)
    expect(dialog.get_by_role("link", name="#general")).to_be_visible()
    check_accessibility(page)
    query.press("Escape")
    expect(dialog).to_be_hidden()

    page.keyboard.press("Control+k")
    expect(query).to_be_focused()
    query.press_sequentially("gen")
    query.press("Enter")
    expect(page.locator("#conversation-title")).to_have_text("#general")
    # Elsewhere too (no sidebar on the page): the list is fetched.
    page.goto(server.url + "/account/sessions")
    page.keyboard.press("Control+k")
    dialog = page.get_by_role("dialog", name="Go to a conversation")
    expect(dialog.get_by_role("link", name="#kk-ops")).to_be_visible()
    dialog.get_by_label("Go to conversation").press_sequentially("ops")
    dialog.get_by_label("Go to conversation").press("Enter")
    expect(page.locator("#conversation-title")).to_have_text("#kk-ops")


def test_skip_links_reach_the_composer_in_three_tabs(server, new_context):
    page = signed_in(server, new_context, "ks_user")
    # From the top of the page: nothing focused, the keyboard's starting point at the start.
    page.evaluate("document.body.tabIndex = -1; document.body.focus(); document.body.removeAttribute('tabindex')")
    for _ in range(3):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Skip to composer":
            break
    skip = page.get_by_role("link", name="Skip to composer")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(composer(page)).to_be_focused()
    expect(page.get_by_role("link", name="Skip to conversations")).to_have_attribute("href", "#sidebar")


def test_the_last_messages_edit_form_opens_with_save_and_cancel_in_view(server, new_context):
    page = signed_in(server, new_context, "kv_user", **PHONE)
    for number in range(12):
        last = send(page, f"message number {number}\nwith a second line")
    menu_button(last).tap()
    last.get_by_role("link", name="Edit").tap()
    expect(page.get_by_label("Edit message")).to_be_focused()
    scroller = page.locator("[data-scroller]").bounding_box()
    for name in ("Save", "Cancel"):
        control = page.locator("form.edit-message").get_by_role(
            "button" if name == "Save" else "link", name=name)
        expect(control).to_be_in_viewport()
        box = control.bounding_box()
        assert box["y"] + box["height"] <= scroller["y"] + scroller["height"] + 1, f"{name} is below the visible area"


@pytest.mark.parametrize("phone", [True, False], ids=["phone", "desktop"])
def test_the_last_messages_menu_opens_whole_above_the_bottom_of_the_list(server, new_context, phone):
    name = "km_phone" if phone else "km_desktop"
    page = signed_in(server, new_context, name, **(PHONE if phone else {"viewport": {"width": 1280, "height": 800}}))
    for number in range(3):
        send(page, "\n".join(f"{name} {number}, line {line}" for line in range(12)))
    last = send(page, f"{name}, a short last one")  # its menu reaches past the end of the list
    menu = last.locator("[data-menu]")
    menu_button(last).tap() if phone else menu_button(last).click()
    expect(menu).to_be_visible()
    bottom = page.locator("[data-scroller]").evaluate("el => el.getBoundingClientRect().top + el.clientHeight")
    box = menu.bounding_box()
    assert box["y"] + box["height"] + 4 <= bottom, "the menu's edge is cut off by the bottom of the list"


def test_an_inline_edits_save_looks_like_the_pages_other_main_buttons(server, new_context):
    """The inline edit's Save was a bare browser button, grey like a disabled one, beside a styled
    Cancel (found by the screenshot audit): it looks like Send."""
    page = signed_in(server, new_context, "kb_user", **PHONE)
    send(page, "kb_user's to edit")
    composer(page).press("ArrowUp")
    save = page.locator("form.edit-message").get_by_role("button", name="Save")
    expect(save).to_be_visible()
    send_button = page.locator("[data-composer]").get_by_role("button", name="Send")
    look = "el => { const s = getComputedStyle(el); return [s.backgroundColor, s.color, s.borderRadius]; }"
    assert save.evaluate(look) == send_button.evaluate(look)


@pytest.mark.parametrize("phone", [True, False], ids=["phone", "desktop"])
def test_an_error_banner_in_chat_covers_nothing(server, new_context, phone):
    """The banner said "Huddle could not be reached" over the conversation's header: on a phone
    over "‹ Conversations" and the title, on a desktop over the room's links (found by the
    screenshot audit). It takes its own place; the header stays in view and usable."""
    name = "kf_phone" if phone else "kf_desktop"
    page = signed_in(server, new_context, name, **(PHONE if phone else {"viewport": {"width": 1280, "height": 800}}))
    for number in range(3):  # a full list, scrolled to its end
        send(page, "\n".join(f"{name} {number}, line {line}" for line in range(12)))
    page.route(re.compile(r"/messages$"),
               lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    composer(page).fill("this one fails")
    composer(page).press("Enter")
    banner = page.locator("#flash .notice.error")
    expect(banner).to_contain_text("could not be reached")
    head = page.locator(".chat-pane-head")
    controls = [page.locator("#conversation-title"), *head.get_by_role("link").all()]
    assert len(controls) >= 2
    b = banner.bounding_box()
    for control in controls:
        if not control.is_visible():
            continue
        c = control.bounding_box()
        apart = c["y"] >= b["y"] + b["height"] or c["y"] + c["height"] <= b["y"] \
            or c["x"] >= b["x"] + b["width"] or c["x"] + c["width"] <= b["x"]
        assert apart, f"the banner covers {control.inner_text()!r}"
        expect(control).to_be_in_viewport()
    for box in (composer(page), page.get_by_role("button", name="Send")):
        expect(box).to_be_in_viewport(ratio=1)
    # The list made room for it and still shows its newest: my message, "Not sent — Retry".
    expect(page.locator("#conversation").get_by_role("button", name="Retry")).to_be_in_viewport(ratio=1)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_copy_link_copies_the_messages_permalink(server, new_context):
    server.create_user("kc_user", PASSWORD)
    context = new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    log_in(page, server, "kc_user")
    mine = send(page, "a message worth linking to")
    menu_button(mine).click()
    permalink = mine.get_by_role("link", name="Copy link")
    href = permalink.get_attribute("href")
    permalink.click()
    expect(page.locator("#toasts")).to_contain_text("Link copied.")
    expect(menu_button(mine)).to_be_focused()
    expect(menu_button(mine)).to_have_attribute("aria-expanded", "false")
    assert page.evaluate("navigator.clipboard.readText()") == server.url + href
    expect(page).to_have_url(re.compile(r".*/chat/\d+$"))  # copied, not followed
