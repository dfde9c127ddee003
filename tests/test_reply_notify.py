"""A reply notifies the original's author as a mention does (app/chat/replies.py adds them to the
message's mentions, and app/notify decides from those): pushed at a room's default level
(mentions only), urgently; never the replier replying to themselves."""
from __future__ import annotations

import pytest

from app.chat import service as chat
from app.config import Settings
from app.runtime import Runtime
from tests.helpers.api import api_login


@pytest.fixture
def settings(settings, receiver) -> Settings:
    return settings.replace(push_allowed_origins=(receiver.origin,))


async def subscribed(app, receiver, username: str):
    """username's browser, with notifications on."""
    api = await api_login(app, username)
    browser = receiver.browser(username)
    status, body, _ = await api.post("/api/v1/push/subscriptions", browser.subscription())
    assert status == 201, body
    return browser


async def test_a_reply_pushes_the_originals_author_as_a_mention(app, receiver, general, alice, bob):
    alices = await subscribed(app, receiver, "alice")
    async with app.app_context():
        said = await chat.post(alice, general, "lunch?")
        await chat.post(bob, general, "plain words, no reply")  # #general: alice hears mentions only
        reply = await chat.post(bob, general, "yes!", reply_to=said.id)
        await chat.post(alice, general, "see you", reply_to=said.id)  # her own reply: nothing
    await Runtime.of(app).push.deliver_due()
    got = [each for each in receiver.pushes(alices) if not each.problems and "body" in each.payload]  # not closes
    assert len(got) == 1 and got[0].payload["body"] == "bob: yes!" and got[0].headers["urgency"] == "high"
    assert got[0].payload["url"] == f"/chat/{general.id}/messages/{reply.id}"
