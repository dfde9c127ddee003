"""Reactions: a member's emoji on a message, toggled by the same click, grouped with counts; only
members react (not on a deleted message, not in an archived room), one emoji of the table, limited
like posts; each change is numbered like an edit, so pages and programs catch up exactly; the page
(chips, palette, no-script form), REST (PUT/DELETE .../reactions/<emoji>) and the JSON websocket."""
from __future__ import annotations

import asyncio
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
from tests.helpers.chat import lift_posting_limit, posted, welcomed
from tests.helpers.live import barrier, page
from tests.helpers.postgres import pg_site

THUMBS, PARTY, HEART = "👍", "🎉", "❤️"


def url(message: Message, emoji: str) -> str:
    return f"/api/v1/messages/{message.id}/reactions/{quote(emoji, safe='')}"


@pytest.fixture
async def said(app, general, alice) -> Message:
    return await posted(app, alice, general, "lunch?")


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
    "", " ", "a", "ok", ":+1:", "👍👍", "👍 ", "👍\u200b", "\u200b", "👍🏽",  # text, two, a space, zero width, skin
    "👨\u200d👩\u200d👧", "👍\u200d👎", "\u202e👍", "👍\x00", "\x07", "\ud83d",  # ZWJ, bidi, controls, surrogate
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


# --- the page ----------------------------------------------------------------------------------------

async def test_a_chip_toggles_with_htmx_and_answers_with_the_message(app, said, sign_in, bob):
    bobs = await sign_in("bob")
    response = await bobs.post(f"/chat/messages/{said.id}/reactions", {"emoji": THUMBS}, htmx=True)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and f'id="message-{said.id}"' in html
    assert f'data-reactors="{bob.id}"' in html and 'aria-label="👍 1: bob"' in html
    response = await bobs.post(f"/chat/messages/{said.id}/reactions", {"emoji": THUMBS}, htmx=True)
    assert 'class="reaction"' not in await response.get_data(as_text=True)  # the same click took it back


async def test_without_a_script_the_chip_submits_the_pages_form_and_comes_back(app, said, general, sign_in):
    bobs = await sign_in("bob")
    page = await (await bobs.get(f"/chat/{general.id}")).get_data(as_text=True)
    assert '<form id="reaction-form" method="post" hidden><input type="hidden" name="csrf_token"' in page
    response = await bobs.post(f"/chat/messages/{said.id}/reactions", {"emoji": PARTY})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/messages/{said.id}")
    page = await (await bobs.get(f"/chat/{general.id}")).get_data(as_text=True)
    chip = re.search(r'<button type="submit" class="reaction" form="reaction-form"[^>]*>', page).group(0)
    assert f'formaction="/chat/messages/{said.id}/reactions"' in chip and 'value="🎉"' in chip
    assert "csrf" not in chip  # the message is one render for everyone: the token is the page's


async def test_the_palette_comes_per_viewer_recent_first_and_a_typed_name_reacts(app, said, sign_in, bob):
    async with app.app_context():
        await reactions.react(bob, said.id, HEART)
    bobs = await sign_in("bob")
    palette = await (await bobs.get(f"/chat/messages/{said.id}/reactions", headers={"HX-Request": "true"})).get_data(
        as_text=True)
    assert palette.index("Recently used") < palette.index('value="❤️"') < palette.index("All emoji")
    assert palette.count('value="❤️"') == 1 and 'name="csrf_token"' in palette
    page = await (await bobs.get(f"/chat/messages/{said.id}/reactions")).get_data(as_text=True)
    assert "<html" in page and "Add a reaction" in page  # a page of its own without a script
    response = await bobs.post(f"/chat/messages/{said.id}/reactions", {"name": "tada"})
    assert response.status_code == 303
    assert await Reaction.filter(message_id=said.id, user_id=bob.id, emoji=PARTY).exists()


@pytest.mark.parametrize("form", [{"name": "no such emoji"}, {"emoji": "lol"}, {"emoji": "👍🏻"}, {}])
async def test_the_palette_says_what_is_wrong_in_place(app, said, sign_in, form):
    bobs = await sign_in("bob")
    response = await bobs.post(f"/chat/messages/{said.id}/reactions", form, htmx=True)
    html = await response.get_data(as_text=True)
    assert response.status_code == 422 and reactions.NOT_AN_EMOJI in html
    assert response.headers["HX-Retarget"] == f"#message-{said.id}-palette"
    assert await Reaction.filter(message_id=said.id).count() == 0


async def test_the_page_is_limited_like_posts(app, said, sign_in):
    lift_posting_limit(app, 1)
    bobs = await sign_in("bob")
    assert (await bobs.post(f"/chat/messages/{said.id}/reactions", {"emoji": THUMBS}, htmx=True)).status_code == 200
    refused = await bobs.post(f"/chat/messages/{said.id}/reactions", {"emoji": PARTY}, htmx=True)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "reacting very fast" in await refused.get_data(as_text=True)


async def test_mine_is_the_viewers_own_rule(app, sign_in, bob):
    css = await (await (await sign_in("bob")).get(f"/mentions/viewer.css?u={bob.id}")).get_data(as_text=True)
    assert f'.reaction[data-reactors~="{bob.id}"]' in css


async def test_hostile_usernames_stay_text_in_the_chips(app, said, bob):
    async with app.app_context():
        await bob.__class__.filter(id=bob.id).update(username='b"><script>x</script>')
        await reactions.react(await bob.__class__.get(id=bob.id), said.id, THUMBS)
        from app.chat.events import message_html
        html = str(await message_html(await Message.get(id=said.id)))
    assert "<script>x" not in html and "&lt;script&gt;" in html


# --- programs --------------------------------------------------------------------------------------

async def test_rest_puts_and_deletes_a_reaction_by_the_url_encoded_emoji(app, said, bob):
    api = await api_login(app, "bob")
    status, body, _ = await api.put(url(said, THUMBS))
    assert status == 200 and body["data"]["reactions"] == [
        {"emoji": THUMBS, "count": 1, "users": [bob.id], "usernames": ["bob"]}]
    status, again, _ = await api.put(url(said, THUMBS))  # idempotent
    assert status == 200 and again["data"]["version"] == body["data"]["version"]
    status, body, _ = await api.delete(url(said, THUMBS))
    assert status == 200 and body["data"]["reactions"] == []
    status, page, _ = await api.get(f"/api/v1/conversations/{said.conversation_id}/messages")
    assert all("reactions" in m for m in page["data"]["messages"])


@pytest.mark.parametrize("emoji", ["lol", "👍👍", "👨\u200d👩\u200d👧", "%00", "👍\u202e", "🎉" * 17])
async def test_rest_refuses_anything_but_one_emoji(app, said, emoji):
    api = await api_login(app, "bob")
    status, body, _ = await api.put(url(said, emoji))
    assert status == 422 and "emoji" in body["error"]["fields"]


async def test_rest_hides_what_one_may_not_read_and_refuses_without_a_token(app, alice, bob, admin):
    async with app.app_context():
        secret = await chat.create_room(alice, "secret", is_open=False)
        message = await chat.post(alice, secret, "between us")
    for who in ("bob", "admin"):
        status, _, _ = await (await api_login(app, who)).put(url(message, THUMBS))
        assert status == 404
    from tests.helpers.api import Api
    status, _, _ = await Api(app).put(url(message, THUMBS))
    assert status == 401 and await Reaction.filter(message_id=message.id).count() == 0


async def test_the_socket_reacts_and_every_program_hears_it(app, said, bob, alice):
    bob_api, alice_api = await api_login(app, "bob"), await api_login(app, "alice")
    async with json_socket(app) as bobs, json_socket(app) as alices:
        await act(bobs, "auth", {"token": bob_api.token})
        await act(alices, "auth", {"token": alice_api.token})
        answer = await act(bobs, "react", {"message_id": said.id, "emoji": PARTY})
        assert answer["data"]["reactions"][0]["users"] == [bob.id]
        heard = await pushed(alices, "reaction.added")
        assert heard["data"] == {"message_id": said.id, "conversation_id": said.conversation_id, "emoji": PARTY,
                                 "user_id": bob.id, "seq": answer["data"]["version"]}
        await act(bobs, "unreact", {"message_id": said.id, "emoji": PARTY})
        assert (await pushed(alices, "reaction.removed"))["data"]["emoji"] == PARTY
        refused = await act(bobs, "react", {"message_id": said.id, "emoji": "nope"})
        assert "emoji" in refused["fields"]
        refused = await act(bobs, "react", {"message_id": said.id, "emoji": 7})
        assert "emoji" in refused["fields"]


# --- catching up ----------------------------------------------------------------------------------------

async def test_a_reconnecting_page_gets_the_final_reactions_once(app, client, said, general, alice, bob, admin):
    await client.login("alice")
    cursor = (await Conversation.get(id=general.id)).last_seq
    async with app.app_context():  # while alice's page is away
        await reactions.react(bob, said.id, THUMBS)
        await reactions.react(admin, said.id, THUMBS)
        await reactions.react(bob, said.id, PARTY)
        await reactions.unreact(bob, said.id, THUMBS)
    async with page(client, general, after=cursor) as alices:
        text = "".join(alices.replay)
        assert text.count(f'id="message-{said.id}" class="message" hx-swap-oob="true"') == 1  # its latest version
        assert 'aria-label="👍 1: admin"' in text and 'aria-label="🎉 1: bob"' in text
        async with app.app_context():  # and live again
            await reactions.react(alice, said.id, PARTY)
        live = await barrier(alices)
        assert len(live) == 1 and 'aria-label="🎉 2: bob, alice"' in live[0]


async def test_a_resubscribing_program_ends_where_one_that_stayed_did(app, said, general, bob, admin):
    api = await api_login(app, "alice")
    async with json_socket(app) as stayed:
        await act(stayed, "auth", {"token": api.token})
        await act(stayed, "subscribe", {"conversations": {str(general.id): said.seq}})
        cursor = (await Conversation.get(id=general.id)).last_seq
        async with app.app_context():
            await reactions.react(bob, said.id, THUMBS)
            await reactions.react(admin, said.id, HEART)
            await reactions.unreact(bob, said.id, THUMBS)
        kinds = [(await pushed(stayed, kind))["data"]["emoji"] for kind in
                 ("reaction.added", "reaction.added", "reaction.removed")]
        assert kinds == [THUMBS, HEART, THUMBS]
    async with json_socket(app) as back:
        await act(back, "auth", {"token": api.token})
        await back.send(json.dumps({"action": "subscribe", "data": {"conversations": {str(general.id): cursor}}}))
        edited = await pushed(back, "message.edited")
        answer = await pushed(back, "subscribe")
    assert edited["data"]["id"] == said.id and edited["data"]["reactions"] == [
        {"emoji": HEART, "count": 1, "users": [admin.id], "usernames": ["admin"]}]
    assert answer["data"]["conversations"]


async def test_a_reaction_lost_by_the_broker_is_filled_from_the_database(app, client, said, general, bob, monkeypatch):
    await client.login("alice")
    async with page(client, general) as alices:
        broker = Runtime.of(app).broker
        real_publish = broker.publish

        async def lossy(event):  # the broker drops the reaction's event (Redis restarting, say)
            if event.kind != "reaction.added":
                await real_publish(event)

        monkeypatch.setattr(broker, "publish", lossy)
        async with app.app_context():
            await reactions.react(bob, said.id, THUMBS)
            other = await chat.post(bob, general, "next")
        text = "".join(await barrier(alices))
    assert text.index('aria-label="👍 1: bob"') < text.index(f'id="message-{other.id}"')


async def test_the_same_reaction_at_once_is_one_row_and_one_number(app, said, general, bob):
    async with app.app_context():
        before = (await Conversation.get(id=general.id)).last_seq
        done = await asyncio.gather(*(reactions.react(bob, said.id, THUMBS) for _ in range(8)),
                                    return_exceptions=True)
        assert not [d for d in done if isinstance(d, Exception) and not isinstance(d, RateLimited)]
    assert await Reaction.filter(message_id=said.id).count() == 1
    assert (await Conversation.get(id=general.id)).last_seq == before + 1 == (await Message.get(id=said.id)).version_seq


# --- the same on PostgreSQL ---------------------------------------------------------------------------

async def test_reactions_race_group_and_replay_on_postgresql(pg_database, tmp_path):
    """Concurrent reactions from several people on the other dialect: one row each, every change its
    own number, grouped in the order first given (plain SQL: app/chat/reaction_lists.py), and a
    replay after the first number gives the message once, with all of them."""
    from app.chat.live import rooms
    from tests.helpers.accounts import make_user

    async with pg_site(pg_database, tmp_path):
        people = [await make_user(f"p{n}") for n in range(6)]
        general = await welcomed(*people)
        said = await chat.post(people[0], general, "lunch?")
        await asyncio.gather(*(reactions.react(p, said.id, emoji) for p in people for emoji in (THUMBS, PARTY)),
                             *(reactions.react(people[1], said.id, THUMBS) for _ in range(4)))
        assert await Reaction.filter(message_id=said.id).count() == 12
        message = await Message.get(id=said.id)
        assert message.version_seq == said.seq + 12 == (await Conversation.get(id=general.id)).last_seq
        data = await reactions.toggle(people[2], said.id, PARTY)
        assert data[1] is False
        replay = await rooms.changes(f"conversation:{general.id}", said.seq, 100)
        assert [(e.kind, e.data["id"]) for e in replay] == [("message.edited", said.id)]
        groups = {g["emoji"]: (g["count"], sorted(g["usernames"])) for g in replay[0].data["reactions"]}
        assert groups == {THUMBS: (6, [p.username for p in people]),
                          PARTY: (5, sorted(p.username for p in people if p is not people[2]))}
        assert await reactions.recent(people[2]) == [THUMBS]  # the one taken back is no longer "recent"
        assert sorted(await reactions.recent(people[3])) == sorted([THUMBS, PARTY])
