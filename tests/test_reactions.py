"""Reactions: a member's emoji on a message, toggled by the same click, grouped with counts; only
members react (not on a deleted message, not in an archived room), one emoji of the table, limited
like posts; each change is numbered like an edit, so pages and programs catch up exactly; the page
(chips, palette, no-script form), REST (PUT/DELETE .../reactions/<emoji>) and the JSON websocket."""
from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest

from app.chat import reactions
from app.chat import service as chat
from app.domain import Invalid, NotFound, RateLimited
from app.models import Conversation, Message, Reaction
from app.runtime import Runtime
from tests.helpers.api import act, api_login, json_socket, pushed
from tests.helpers.chat import lift_posting_limit
from tests.helpers.live import barrier, page, receive_until

THUMBS, PARTY, HEART = "👍", "🎉", "❤️"


def url(message: Message, emoji: str) -> str:
    return f"/api/v1/messages/{message.id}/reactions/{quote(emoji, safe='')}"


@pytest.fixture
async def said(app, general, alice) -> Message:
    async with app.app_context():
        return await chat.post(alice, general, "lunch?")


# --- the service ------------------------------------------------------------------------------------

async def test_reactions_are_grouped_by_emoji_with_counts_in_the_order_first_given(app, said, alice, bob, admin):
    async with app.app_context():
        await reactions.react(bob, said.id, PARTY)
        await reactions.react(alice, said.id, THUMBS)
        await reactions.react(admin, said.id, PARTY)
        message = await reactions.react(alice, said.id, PARTY)
    assert message.reaction_list == [
        {"emoji": PARTY, "count": 3, "users": [bob.id, admin.id, alice.id], "usernames": ["bob", "admin", "alice"]},
        {"emoji": THUMBS, "count": 1, "users": [alice.id], "usernames": ["alice"]},
    ]


async def test_the_same_click_again_takes_it_back(app, said, bob):
    async with app.app_context():
        _, there = await reactions.toggle(bob, said.id, THUMBS)
        assert there and await Reaction.filter(message_id=said.id).count() == 1
        message, there = await reactions.toggle(bob, said.id, THUMBS)
    assert not there and message.reaction_list == [] and await Reaction.filter(message_id=said.id).count() == 0


async def test_each_change_numbers_the_message_like_an_edit_and_a_repeat_changes_nothing(app, said, general, bob):
    async with app.app_context():
        message = await reactions.react(bob, said.id, THUMBS)
        last = (await Conversation.get(id=general.id)).last_seq
        assert message.version_seq == last > said.version_seq
        again = await reactions.react(bob, said.id, THUMBS)  # there already: no number, no event
        assert again.version_seq == last == (await Conversation.get(id=general.id)).last_seq
        assert (await reactions.unreact(bob, said.id, PARTY)).version_seq == last  # never there
        gone = await reactions.unreact(bob, said.id, THUMBS)
    assert gone.version_seq == last + 1 == (await Message.get(id=said.id)).version_seq


async def test_an_emoji_without_its_presentation_selector_is_the_same_reaction(app, said, bob):
    async with app.app_context():
        await reactions.react(bob, said.id, "❤")  # U+2764 as keyboards send it
        message = await reactions.react(bob, said.id, HEART)
    assert [g["emoji"] for g in message.reaction_list] == [HEART] and message.reaction_list[0]["count"] == 1


@pytest.mark.parametrize("emoji", [
    "", " ", "a", "ok", ":+1:", "👍👍", "👍 ", "👍\u200b", "\u200b", "👍🏽",  # text, two, trailing, zero width, a skin tone
    "👨\u200d👩\u200d👧", "👍\u200d👎", "\u202e👍", "👍\x00", "\x07", "\ud83d",  # ZWJ tricks, bidi, controls, a lone surrogate
    "🎉" * 20, "x" * 65, "<script>", "\ufe0f",
])
async def test_anything_but_one_emoji_of_the_table_is_refused(app, said, bob, emoji):
    async with app.app_context():
        with pytest.raises(Invalid) as refused:
            await reactions.react(bob, said.id, emoji)
    assert "emoji" in refused.value.errors
    assert await Reaction.filter(message_id=said.id).count() == 0


async def test_only_members_react_and_admins_have_no_special_power(app, admin, alice, bob):
    async with app.app_context():
        secret = await chat.create_room(alice, "secret", is_open=False)
        message = await chat.post(alice, secret, "between us")
        for outsider in (bob, admin):
            with pytest.raises(NotFound):
                await reactions.react(outsider, message.id, THUMBS)
        await chat.add_member(alice, secret, "bob")
        await reactions.react(bob, message.id, THUMBS)
        await chat.remove_member(alice, secret, bob)
        with pytest.raises(NotFound):  # removed: neither adds nor takes back
            await reactions.unreact(bob, message.id, THUMBS)
    assert await Reaction.filter(message_id=message.id).count() == 1


async def test_nobody_takes_back_someone_elses_reaction(app, said, alice, bob, admin):
    async with app.app_context():
        await reactions.react(alice, said.id, THUMBS)
        for other in (bob, admin):
            await reactions.unreact(other, said.id, THUMBS)
    assert await Reaction.filter(message_id=said.id).values_list("user_id", flat=True) == [alice.id]


async def test_a_deleted_message_takes_no_reaction(app, said, alice, bob):
    async with app.app_context():
        await chat.delete(alice, said)
        with pytest.raises(NotFound):
            await reactions.react(bob, said.id, THUMBS)


async def test_an_archived_room_takes_no_reaction_nor_takes_one_back(app, alice, bob):
    async with app.app_context():
        room = await chat.create_room(alice, "old")
        await chat.join(bob, room)
        message = await chat.post(alice, room, "hello")
        await reactions.react(bob, message.id, THUMBS)
        await chat.change_room(alice, room, archived=True)
        for change in (reactions.react, reactions.unreact):
            with pytest.raises(Invalid):
                await change(bob, message.id, THUMBS if change is reactions.unreact else PARTY)
    assert await Reaction.filter(message_id=message.id).count() == 1


async def test_reacting_counts_against_the_posting_limit(app, said, bob):
    lift_posting_limit(app, 3)
    async with app.app_context():
        for emoji in (THUMBS, PARTY, HEART):
            await reactions.react(bob, said.id, emoji)
        with pytest.raises(RateLimited):
            await reactions.unreact(bob, said.id, THUMBS)
        await reactions.react(bob, said.id, THUMBS)  # no change: not counted, not refused
    assert await Reaction.filter(message_id=said.id).count() == 3


async def test_the_palette_offers_what_i_used_lately_first(app, said, bob):
    async with app.app_context():
        for emoji in (HEART, THUMBS, PARTY):
            await reactions.react(bob, said.id, emoji)
        await reactions.unreact(bob, said.id, THUMBS)
        assert await reactions.recent(bob) == [PARTY, HEART]
