"""Mentions: which `@name`s count (not in code, not in a web address, not an e-mail address), whom
they reach (who may read the conversation, never its author), the rows kept right by posts, edits
and deletions, @everyone and its rules, the signals notify hears, and what pages and programs show:
the highlighted text, the sidebar's and the header's counts, /mentions and GET /api/v1/mentions."""
from __future__ import annotations

import re

import pytest

from app import signals
from app.chat import mention_routes, mentions
from app.chat import service as chat
from app.chat.mentions import find
from app.domain import Invalid
from app.models import Conversation, Membership, Mention, Message, User
from tests.helpers import PASSWORD
from tests.helpers.api import Api, act, api_login, json_socket, pushed
from tests.helpers.chat import lift_posting_limit, welcomed
from tests.helpers.live import live, receive_until
from tests.helpers.postgres import pg_site

# --- what counts as a mention ---------------------------------------------------------------------


@pytest.mark.parametrize("body, keys, everyone", [
    ("hi @bob", {"bob"}, False),
    ("@BOB, @Alice.", {"bob", "alice"}, False),
    ("ＡＤＡ? no: @ＡＤＡ", {"ada"}, False),  # full width folds, like User.by_username
    ("`@bob` and\n```\n@alice\n```", set(), False),  # code (a fence opens its own line)
    ("~~~\n@bob\n~~~\n[@alice](https://example.com)", set(), False),  # a fence of tildes, a link's words
    ("``@bob`` still code, `unclosed @alice", {"alice"}, False),
    ("see https://example.com/@bob and <https://x.example/?u=@alice>", set(), False),  # web addresses
    ("mail bob@example.com or a@b.c", set(), False),  # addresses, not mentions
    ("@bob@example.com", set(), False),
    ("(@carol) [@dave]", {"carol", "dave"}, False),
    ("@everyone look", set(), True),
    ("@EveryOne", set(), True),
    ("@x @a-very-long-name-that-no-username-could-ever-have", set(), False),  # too short, too long
])
def test_mentions_are_found_outside_code_and_addresses(body, keys, everyone):
    found = find(body)
    assert (set(found.keys), found.everyone) == (keys, everyone)


# --- whom they reach ----------------------------------------------------------------------------------

async def rows_of(message: Message) -> dict[int, bool]:
    return {row.user_id: row.everyone for row in await Mention.filter(message_id=message.id)}


async def test_a_post_mentions_the_people_it_names_who_may_read_it(app, general, admin, alice, bob):
    async with app.app_context():
        message = await chat.post(alice, general, "@BOB and @nobody and @alice (me) and @admin.")
    assert await rows_of(message) == {bob.id: False, admin.id: False}  # unknown names and the author: none
    row = await Mention.get(message_id=message.id, user_id=bob.id)
    assert (row.seq, row.conversation_id) == (message.seq, general.id)


async def test_someone_who_may_not_read_a_closed_room_is_not_mentioned_there(app, general, alice, bob):
    async with app.app_context():
        secret = await chat.create_room(alice, "secret", is_open=False)
        lounge = await chat.create_room(alice, "lounge", is_open=True)  # open: bob may read it without joining
        closed = await chat.post(alice, secret, "@bob should not know")
        opened = await chat.post(alice, lounge, "@bob have a look")
    assert await rows_of(closed) == {}
    assert await rows_of(opened) == {bob.id: False}


async def test_edits_add_and_remove_mentions_and_deleting_removes_them(app, general, admin, alice, bob):
    heard = []

    async def added(message, people):
        heard.append(("added", message.id, set(people)))

    async def posted(message, people):
        heard.append(("posted", message.conversation.id, set(people)))

    signals.mentions_added.connect(added)
    signals.message_posted.connect(posted)
    try:
        async with app.app_context():
            message = await chat.post(alice, general, "hello @bob")
            message = await chat.edit(alice, message, "hello @bob and @admin")  # only admin is new
            message = await chat.edit(alice, message, "hello @admin")  # bob taken out
            assert await rows_of(message) == {admin.id: False}
            message = await chat.edit(alice, message, "hello @admin, again")  # nobody new: no signal
            await chat.delete(alice, message)
    finally:
        signals.mentions_added.receivers.remove(added)
        signals.message_posted.receivers.remove(posted)
    assert heard == [("posted", general.id, {bob.id}), ("added", message.id, {admin.id})]
    assert await Mention.filter(message_id=message.id).count() == 0  # the tombstone mentions nobody


async def test_everyone_mentions_every_member_but_the_author(app, general, admin, alice, bob):
    async with app.app_context():
        message = await chat.post(alice, general, "@everyone, and @bob especially")
        quiet = await chat.post(alice, general, "`@everyone` in code")
    assert await rows_of(message) == {admin.id: True, bob.id: False}  # named: more than @everyone
    assert await rows_of(quiet) == {}


async def test_a_room_can_turn_everyone_off(app, general, alice, bob, sign_in):
    await Conversation.filter(id=general.id).update(everyone_allowed=False)
    async with app.app_context():
        with pytest.raises(Invalid) as refused:
            await chat.post(alice, await Conversation.get(id=general.id), "@everyone lunch?")
    assert refused.value.errors == {"body": "@everyone is turned off in #general: mention people by name."}
    page = await sign_in("alice")
    response = await page.post(f"/chat/{general.id}/messages", {"body": "@everyone lunch?"}, htmx=True)
    html = await response.get_data(as_text=True)
    assert response.status_code == 422 and "turned off in #general" in html and "@everyone lunch?" in html
    assert await Message.filter(conversation_id=general.id).count() == 0


async def test_the_rooms_creator_or_an_admin_turns_everyone_off_and_on(app, general, admin, alice, bob, sign_in):
    async with app.app_context():
        lounge = await chat.create_room(alice, "lounge", is_open=True)
    # The settings page: its creator (alice) turns it off; the audit log says so.
    page = await sign_in("alice")
    form = {"name": "lounge", "topic": "", "open": "open", "everyone_shown": "1"}
    assert 'name="everyone" checked' in await (await page.get(f"/chat/{lounge.id}/settings")).get_data(as_text=True)
    assert (await page.post(f"/chat/{lounge.id}/settings", form)).status_code == 303
    assert not (await Conversation.get(id=lounge.id)).everyone_allowed
    audit = await (await (await sign_in("admin")).get("/admin/audit")).get_data(as_text=True)
    assert "@everyone: on → off" in audit
    # A form that never showed the box changes nothing of it.
    assert (await page.post(f"/chat/{lounge.id}/settings", {**form, "everyone_shown": ""})).status_code == 303
    assert not (await Conversation.get(id=lounge.id)).everyone_allowed
    # Programs: an administrator turns #general's off (its one switch besides the topic); a member may not.
    api = await api_login(app, "admin")
    status, body, _ = await api.patch(f"/api/v1/conversations/{general.id}", {"everyone_allowed": False})
    assert status == 200 and body["data"]["everyone_allowed"] is False
    bobs = await api_login(app, "bob")
    status, _, _ = await bobs.patch(f"/api/v1/conversations/{general.id}", {"everyone_allowed": True})
    assert status == 403
    status, body, _ = await bobs.post(f"/api/v1/conversations/{general.id}/messages", {"text": "@everyone hi"})
    assert status == 422 and "turned off in #general" in body["error"]["fields"]["body"]
    status, body, _ = await api.patch(f"/api/v1/conversations/{lounge.id}", {"everyone_allowed": True})
    assert status == 200 and body["data"]["everyone_allowed"] is True


@pytest.fixture
async def big_room(app, general, alice):
    """#big: alice and 31 others (more than EVERYONE_CONFIRM_ABOVE)."""
    lift_posting_limit(app)
    people = [await User.create_account(f"p{n:02d}", f"p{n:02d}@example.com", password_hash="x") for n in range(31)]
    async with app.app_context():
        room = await chat.create_room(alice, "big", is_open=False, member_names=[p.username for p in people])
    return room


async def test_everyone_in_a_big_room_is_confirmed_first_at_every_door(app, big_room, alice, sign_in):
    assert await Membership.filter(conversation_id=big_room.id).count() == mentions.EVERYONE_CONFIRM_ABOVE + 2
    ask = "Notify all 31 members of #big?"
    # The page without a script: the composer asks, the text kept, with the box to tick.
    page = await sign_in("alice")
    response = await page.post(f"/chat/{big_room.id}/messages", {"body": "@everyone deploy at 5"})
    html = await response.get_data(as_text=True)
    assert response.status_code == 422 and ask in html and "@everyone deploy at 5</textarea>" in html
    assert re.search(r'data-composer-confirm>\s*<label><input type="checkbox" name="confirm_everyone"', html)
    response = await page.post(f"/chat/{big_room.id}/messages", {"body": "@everyone deploy at 5",
                                                                 "confirm_everyone": "1"})
    assert response.status_code == 303
    # A program sends the field too.
    api = await api_login(app, "alice")
    status, body, _ = await api.post(f"/api/v1/conversations/{big_room.id}/messages", {"text": "@everyone again"})
    assert status == 422 and ask in body["error"]["fields"]["confirm_everyone"]
    status, body, _ = await api.post(f"/api/v1/conversations/{big_room.id}/messages",
                                     {"text": "@everyone again", "confirm_everyone": True})
    assert status == 201 and len(body["data"]["mentions"]) == 31 and alice.id not in body["data"]["mentions"]
    async with json_socket(app) as socket:
        await act(socket, "login", {"username": "alice", "password": PASSWORD})
        refused = await act(socket, "send", {"conversation_id": big_room.id, "text": "@everyone ws"})
        assert "confirm_everyone" in refused["fields"]
        sent = await act(socket, "send", {"conversation_id": big_room.id, "text": "@everyone ws",
                                          "confirm_everyone": True})
        assert len(sent["data"]["mentions"]) == 31
    # An edit that adds @everyone asks too; one that keeps it does not.
    async with app.app_context():
        message = await chat.post(alice, big_room, "plain")
        with pytest.raises(Invalid) as refused:
            await chat.edit(alice, message, "plain @everyone")
        assert "confirm_everyone" in refused.value.errors
        message = await chat.edit(alice, message, "plain @everyone", confirm_everyone=True)
        await chat.edit(alice, message, "still @everyone")
    assert await Message.filter(conversation_id=big_room.id).count() == 4


# --- what people and programs see ------------------------------------------------------------------

async def test_the_text_highlights_mentions_with_the_persons_id(app, general, alice, bob, sign_in):
    async with app.app_context():
        message = await chat.post(alice, general, "@bob, see `@alice` and @everyone")
    html = await (await (await sign_in("bob")).get(f"/chat/{general.id}")).get_data(as_text=True)
    body = re.search(rf'id="message-{message.id}".*?<div class="message-body">(.*?)</div>', html, re.S).group(1)
    assert f'<span class="mention" data-user-id="{bob.id}">@bob<span class="mention-you">, mentions you</span>' in body
    assert "<code>@alice</code>" in body and 'data-everyone=""' in body
    css = await (await (await sign_in("bob")).get(f"/mentions/viewer.css?u={bob.id}")).get_data(as_text=True)
    assert f'.mention[data-user-id="{bob.id}"] .mention-you' in css


async def test_counts_in_the_sidebar_and_the_header_follow_reading(app, general, alice, bob, sign_in):
    async with app.app_context():
        await chat.post(alice, general, "@bob one")
        await chat.post(alice, general, "@bob two")
    browser = await sign_in("bob")
    html = await (await browser.get("/chat/sidebar")).get_data(as_text=True)
    assert f'id="conversation-{general.id}-mentions" class="mention-count" data-count="2"' in html
    assert 'id="mentions-badge" class="unread" data-count="2"' in html
    # Set to "Nothing": no unread count, the mentions still.
    await Membership.filter(user_id=bob.id, conversation_id=general.id).update(notify="nothing")
    html = await (await browser.get("/chat/sidebar")).get_data(as_text=True)
    assert f'id="conversation-{general.id}-unread"' not in html
    assert f'id="conversation-{general.id}-mentions" class="mention-count" data-count="2"' in html
    async with live(browser) as page:
        assert f'data-mentions="{{&#34;{general.id}&#34;: 2}}"' in page.snapshot  # the hello's snapshot
        await browser.post(f"/chat/{general.id}/read", {})
        read = await receive_until(page, 'id="live-read"')
        assert 'data-mentions="0" data-mentions-total="0"' in read
    html = await (await browser.get("/chat/sidebar")).get_data(as_text=True)
    assert 'id="mentions-badge" class="unread" data-count="0" hidden' in html


async def test_the_person_mentioned_hears_it_live_and_only_they(app, general, alice, bob, sign_in):
    browser = await sign_in("bob")
    async with live(browser) as page, json_socket(app) as program, json_socket(app) as other:
        await act(program, "login", {"username": "bob", "password": PASSWORD})
        await act(other, "login", {"username": "admin", "password": PASSWORD})
        async with app.app_context():
            message = await chat.post(alice, general, "@bob ping")
        got = await pushed(program, "mention")
        assert got["data"] == {"conversation_id": general.id, "message_id": message.id, "seq": message.seq,
                               "unread": True}
        assert f'data-message="{message.id}"' in await receive_until(page, 'id="live-mention"')
        created = await pushed(other, "message.created")  # the admin hears the message, no mention
        assert created["data"]["mentions"] == [bob.id]
        async with app.app_context():
            await chat.edit(alice, message, "nobody now")
        assert 'data-change="removed" data-counted="1"' in await receive_until(page, 'id="live-mention"')


async def test_the_mentions_page_lists_mine_newest_first_in_what_i_may_read(app, general, admin, alice, bob,
                                                                            sign_in, monkeypatch):
    async with app.app_context():
        first = await chat.post(alice, general, "@bob first")
        await chat.post(bob, general, "@alice not bob's")
        secret = await chat.create_room(alice, "secret", is_open=False, member_names=["bob", "admin"])
        hidden = await chat.post(alice, secret, "@bob @admin secret plan")
        second = await chat.post(alice, general, "@everyone second")
        await chat.remove_member(alice, secret, admin)  # the admin may no longer read it
    browser = await sign_in("bob")
    html = await (await browser.get("/mentions")).get_data(as_text=True)
    ids = re.findall(r'/messages/(\d+)#message-\d+', html)
    assert ids == [str(second.id), str(hidden.id), str(first.id)]
    assert "not bob&#39;s" not in html and "to @everyone" in html
    assert html.count('class="mention-new"') == 2  # bob read #general up to his own post, after the first
    admin_page = await (await (await sign_in("admin")).get("/mentions")).get_data(as_text=True)
    assert "secret plan" not in admin_page and "second" in admin_page
    # A page at a time, newest first; a cursor that is not one of ours says so.
    monkeypatch.setattr(mention_routes, "PAGE_SIZE", 2)
    html = await (await browser.get("/mentions")).get_data(as_text=True)
    older = re.search(r'href="(/mentions\?before=\d+)"', html).group(1)
    rest = await (await browser.get(older, headers={"HX-Request": "true"})).get_data(as_text=True)
    assert re.findall(r'/messages/(\d+)#message-\d+', rest) == [str(first.id)] and "<html" not in rest
    bad = await browser.get("/mentions?before=nope")
    assert bad.status_code == 422 and mention_routes.BAD_CURSOR.replace("'", "&#39;") in await bad.get_data(
        as_text=True)
    # Read: no longer new.
    await browser.post(f"/chat/{general.id}/read", {})
    html = await (await browser.get("/mentions")).get_data(as_text=True)
    assert html.count('class="mention-new"') == 1  # the closed room's is still unread


async def test_programs_list_mentions_and_bad_input_is_refused_by_field(app, general, admin, alice, bob):
    async with app.app_context():
        first = await chat.post(alice, general, "@bob first")
        second = await chat.post(alice, general, "@bob second")
    api = await api_login(app, "bob")
    status, body, _ = await api.get("/api/v1/mentions", query_string={"limit": 1})
    assert status == 200
    (only,) = body["data"]["messages"]
    assert (only["id"], only["conversation_id"], only["unread"], only["everyone"], only["mentions"]) == (
        second.id, general.id, True, False, [bob.id])
    status, body, _ = await api.get("/api/v1/mentions", query_string={"before": body["data"]["older"]})
    assert [m["id"] for m in body["data"]["messages"]] == [first.id] and body["data"]["older"] is None
    alices = await api_login(app, "alice")
    assert (await alices.get("/api/v1/mentions"))[1]["data"] == {"messages": [], "older": None}
    for bad in ({"limit": 0}, {"limit": 101}, {"before": "x"}, {"before": -1}):
        status, body, _ = await api.get("/api/v1/mentions", query_string=bad)
        assert status == 422 and set(body["error"]["fields"]) == set(bad), bad
    status, _, _ = await api.get("/api/v1/mentions", headers={"Authorization": "Bearer nope"})
    assert status == 401
    async with json_socket(app) as socket:
        await act(socket, "login", {"username": "bob", "password": PASSWORD})
        answer = await act(socket, "mentions", {"limit": 1})
        assert [m["id"] for m in answer["data"]["messages"]] == [second.id]
        assert "limit" in (await act(socket, "mentions", {"limit": "ten"}))["fields"]


async def test_the_openapi_document_describes_mentions(app):
    _, document, _ = await Api(app).get("/api/v1/openapi.json")
    assert document["paths"]["/api/v1/mentions"]["get"]["operationId"] == "listMentions"
    assert "mentions" in document["components"]["schemas"]["Message"]["properties"]
    assert "confirm_everyone" in document["components"]["schemas"]["NewMessage"]["properties"]


# --- the same on PostgreSQL ---------------------------------------------------------------------------

async def test_mentions_are_kept_counted_and_listed_on_postgresql(pg_database, tmp_path):
    """The rows, the counts and the page's query (plain SQL: app/chat/mentions.py, app/chat/events.py)
    on the other dialect."""
    from tests.helpers.accounts import make_user

    async with pg_site(pg_database, tmp_path):
        alice, bob = await make_user("alice"), await make_user("bob")
        general = await welcomed(alice, bob)
        first = await chat.post(alice, general, "@bob and @everyone")
        second = await chat.post(alice, general, "@BOB again")
        assert await rows_of(first) == {bob.id: False}
        assert await chat.mention_counts_by_id(bob.id) == {general.id: 2}
        items, older = await chat.mentions_of(bob, size=1)
        assert [item.message.id for item in items] == [second.id] and items[0].unread and older
        items, older = await chat.mentions_of(bob, before=older, size=1)
        assert [item.message.id for item in items] == [first.id] and older is None
        await chat.edit(alice, second, "nobody")
        await chat.mark_read(bob, general)
        assert await chat.mention_counts_by_id(bob.id) == {}
