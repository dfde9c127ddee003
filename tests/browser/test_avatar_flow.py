"""A person's picture in a real browser (issue 21): chosen on the profile, the square to keep
dragged over the preview (and nudged with the keys), saved, and then beside their messages for
someone else; a person without one is their initials, never a broken image; axe finds nothing."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers import files as made
from tests.helpers.browser import check_accessibility, log_in, signed_in

pytestmark = pytest.mark.browser

RED, BLUE = (220, 30, 30), (30, 30, 220)
# The colour at the middle of an image on the page (same origin: a canvas may read it).
MIDDLE_COLOUR = """image => {
    const canvas = document.createElement('canvas');
    canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    return Array.from(context.getImageData(image.naturalWidth / 2, image.naturalHeight / 2, 1, 1).data).slice(0, 3);
}"""
NO_BROKEN_IMAGES = "() => Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"


def near(found, wanted) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(found, wanted, strict=True))


def message_by(page, text: str):
    return page.locator("#conversation article.message", has=page.locator(".message-body", has_text=text))


def send(page, text: str) -> None:
    page.get_by_role("textbox", name="Message", exact=True).fill(text)
    page.keyboard.press("Enter")
    expect(message_by(page, text)).to_be_visible()


def test_a_picture_is_cropped_saved_and_shown_beside_messages_to_others(server, new_context, tmp_path):
    server.create_user("avia", PASSWORD)
    server.create_user("bex", PASSWORD)
    avia = new_context().new_page()
    log_in(avia, server, "avia")
    general = avia.url
    send(avia, "Before my picture")
    expect(message_by(avia, "Before my picture").locator(".face")).to_have_attribute("data-initials", "A")  # at first

    avia.goto(server.url + "/users/avia")
    expect(avia.locator(".profile-face .face")).to_have_attribute("data-initials", "A")
    # Red on the left half, blue on the right: the square kept shows which side was chosen.
    picture = made.halves(tmp_path / "halves.png", (640, 320), RED, BLUE)
    avia.get_by_label("Choose a picture").set_input_files(str(picture))
    square = avia.locator("[data-crop-square]")
    expect(square).to_be_visible()
    form = avia.locator("[data-avatar-crop]")
    expect(form.locator("input[name=size]")).to_have_value("320")
    expect(form.locator("input[name=x]")).to_have_value("160")  # the middle, to begin with

    # Drag the square to the right edge: it stops there.
    square.scroll_into_view_if_needed()
    box = avia.locator("[data-crop-box]").bounding_box()
    avia.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    avia.mouse.down()
    avia.mouse.move(box["x"] + box["width"] * 2, box["y"] + box["height"] / 2, steps=5)
    avia.mouse.up()
    expect(form.locator("input[name=x]")).to_have_value("320")
    # Its corner makes it smaller (the top left stays); the keys move it back to the edge.
    handle = avia.locator("[data-crop-handle]").bounding_box()
    avia.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    avia.mouse.down()
    avia.mouse.move(handle["x"] - box["width"] / 2, handle["y"] - box["height"] / 2, steps=5)
    avia.mouse.up()
    size = int(form.locator("input[name=size]").input_value())
    assert 100 < size < 320
    expect(form.locator("input[name=x]")).to_have_value("320")
    square.focus()
    for _ in range(30):
        avia.keyboard.press("ArrowRight")
    expect(form.locator("input[name=x]")).to_have_value(str(640 - size))
    check_accessibility(avia)  # the preview and its square as they stand

    avia.get_by_role("button", name="Save picture").click()
    expect(avia).to_have_url(re.compile(r"/users/avia$"))
    expect(avia.locator("#flash")).to_contain_text("Your new picture is saved.")
    face = avia.locator(".profile-face img.face")
    expect(face).to_be_visible()
    avia.wait_for_function("image => image.complete && image.naturalWidth === 256", arg=face.element_handle())
    assert near(face.evaluate(MIDDLE_COLOUR), BLUE)  # the right-hand square was kept
    expect(avia.get_by_role("button", name="Remove picture")).to_be_visible()
    check_accessibility(avia)

    avia.goto(general)
    send(avia, "After my picture")

    bex = new_context().new_page()
    log_in(bex, server, "bex")
    bex.goto(general)
    send(bex, "Nice picture")
    # The message from before the picture is rendered anew with it (its author's label carries the
    # picture's key); the one after it is the same group's, its face hidden like its name.
    avatar = message_by(bex, "Before my picture").locator("img.face")
    expect(avatar).to_be_visible()
    bex.wait_for_function("image => image.complete && image.naturalWidth === 64", arg=avatar.element_handle())
    assert near(avatar.evaluate(MIDDLE_COLOUR), BLUE)
    later = message_by(bex, "After my picture").locator("img.face")
    expect(later).to_have_attribute("src", avatar.get_attribute("src"))
    expect(later).to_be_hidden()
    mine = message_by(bex, "Nice picture").locator(".face")
    expect(mine).to_have_attribute("data-initials", "B")  # bex has none: initials, no image at all
    expect(mine).to_have_text("")  # drawn by CSS: not in the text a copied message carries
    assert mine.evaluate("node => node.tagName") == "SPAN"
    # Every face on the page, pictures and initials, in messages and the sidebar: nothing broken.
    assert bex.evaluate(NO_BROKEN_IMAGES) == []
    expect(bex.locator("#sidebar img.face").first).to_be_visible()
    check_accessibility(bex)


def test_without_a_script_the_middle_square_is_kept(server, new_context, tmp_path):
    page = signed_in(server, new_context, "noscript", java_script_enabled=False)
    page.goto(server.url + "/account/picture")
    picture = made.halves(tmp_path / "wide.png", (600, 200), RED, BLUE)
    page.get_by_label("Choose a picture").set_input_files(str(picture))
    expect(page.locator("[data-crop-frame]")).to_be_hidden()
    page.get_by_role("button", name="Save picture").click()
    expect(page).to_have_url(re.compile(r"/users/noscript$"))
    expect(page.locator(".profile-face img.face")).to_be_visible()

    # A file that is not a picture: the error is beside the field, on the same page.
    svg = made.svg_with_script(tmp_path / "face.svg")
    page.goto(server.url + "/account/picture")
    page.get_by_label("Choose a new picture").set_input_files(str(svg))
    page.get_by_role("button", name="Save picture").click()
    expect(page.locator("#avatar-file-error")).to_contain_text("Choose a photo or picture")
