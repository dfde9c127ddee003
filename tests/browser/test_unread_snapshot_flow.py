"""The hello's snapshot names only the conversations with something unread (app/live/socket.py): a
page that comes back after the server was away clears a sidebar badge the snapshot does not name
(static/js/cursor.js), as it sets the ones it names."""
from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.helpers.browser import in_a_new_room

pytestmark = pytest.mark.browser


def test_a_badge_read_elsewhere_while_the_page_was_away_is_cleared_by_the_snapshot(server, new_context):
    ada, bob = in_a_new_room(server, new_context, "snada", "snbob")
    token = server.api_token("snada", PASSWORD)
    general = next(c["id"] for c in server.api("GET", "/api/v1/conversations", token)["data"]
                   if c.get("name") == "general")
    for text in ("one for bob", "two for bob"):
        server.api("POST", f"/api/v1/conversations/{general}/messages", token, {"text": text})
    badge = bob.locator(f"#conversation-{general}-unread")
    expect(badge).to_have_text("2")

    server.kill()
    expect(bob.locator("body")).to_have_attribute("data-live", "closed")
    # Read on another device meanwhile, with nobody to tell this page: only the snapshot can.
    database = sqlite3.connect(server.data_dir / "huddle.db")
    with database:
        database.execute("UPDATE memberships SET last_read_seq = (SELECT last_seq FROM conversations c "
                         "WHERE c.id = memberships.conversation_id) WHERE conversation_id = ? AND user_id = "
                         "(SELECT id FROM users WHERE username = 'snbob')", [general])
    database.close()
    server.start()

    expect(bob.locator("body")).to_have_attribute("data-live", "open", timeout=20000)
    expect(badge).to_be_hidden()
    expect(badge).to_have_attribute("data-count", "0")
    expect(ada.locator("body")).to_have_attribute("data-live", "open", timeout=20000)
