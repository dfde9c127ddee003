"""Rooms that say the truth: open or closed chosen explicitly when made (never a closed room made
public without a word), then renamed, given a topic, opened or closed, archived and deleted by
their creator or an administrator only, audited, live for everyone who has them open and exact
after a reconnect; removals and deletions told at once; "More rooms" following along; an open
room previewed with Join. The same rules through the pages and the REST API."""
from __future__ import annotations

import json

import pytest

from app.admin import audit_log
from app.chat import service
from app.models import AuditEvent, Conversation, Membership, Message, User
from tests.helpers.accounts import make_user
from tests.helpers.api import api_login, json_socket, messenger_socket, pushed
from tests.helpers.live import barrier, live, page, receive_until


async def leads(app, creator: User, *members: User, is_open: bool = False, topic: str = "") -> Conversation:
    async with app.app_context():
        return await service.create_room(creator, "leads", topic, is_open=is_open,
                                         member_names=[] if is_open else [m.username for m in members])


# --- made explicitly: open or closed -----------------------------------------------------------------

async def test_a_new_room_must_be_chosen_open_or_closed_and_nothing_typed_is_lost(client, alice, bob, general):
    await client.login("alice")
    form = (await (await client.get("/chat/rooms/new")).get_data(as_text=True))
    assert 'type="radio" name="open" value="open"' in form and 'type="radio" name="open" value="closed"' in form
    assert "checked" not in form.split('name="open"', 1)[1].split("</fieldset>")[0]  # nothing chosen for you
    response = await client.post("/chat/rooms/new", {"name": "leads", "topic": "the plan", "members": "bob"})
    page = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose who can see the room" in page and 'id="open-error"' in page
    assert 'value="leads"' in page and 'value="the plan"' in page and 'value="bob"' in page
    assert not await Conversation.exists(name_key="leads")


async def test_members_typed_for_an_open_room_are_refused_not_dropped(client, alice, bob, general):
    await client.login("alice")
    response = await client.post("/chat/rooms/new", {"name": "leads", "open": "open", "members": "bob"})
    page = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert "An open room is for every member" in page and 'id="members-error"' in page
    assert 'value="bob"' in page and 'value="open" checked' in page
    assert not await Conversation.exists(name_key="leads")


async def test_a_closed_room_is_made_with_its_members_and_listed_for_nobody_else(client, sign_in, app, alice, bob,
                                                                                admin, general):
    await client.login("alice")
    response = await client.post("/chat/rooms/new", {"name": "leads", "open": "closed", "members": "bob"})
    assert response.status_code == 303
    room = await Conversation.get(name_key="leads")
    assert not room.is_open
    assert set(await Membership.filter(conversation_id=room.id).values_list("user_id", flat=True)) == {alice.id, bob.id}
    admins = await sign_in("admin")
    assert "leads" not in await (await admins.get("/chat/sidebar")).get_data(as_text=True)
    assert (await admins.get(f"/chat/{room.id}")).status_code == 404


async def test_an_unknown_member_is_said_by_the_members_field(client, alice, general):
    await client.login("alice")
    response = await client.post("/chat/rooms/new", {"name": "leads", "open": "closed", "members": "nobody"})
    page = await response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="members-error"' in page and "There is no user called nobody" in page


async def test_making_an_open_room_refreshes_more_rooms_on_every_page(app, sign_in, alice, bob, general):
    bobs = await sign_in("bob")
    async with live(bobs) as socket:
        async with app.app_context():
            await service.create_room(alice, "lounge", is_open=True)
        assert 'id="live-rooms"' in await receive_until(socket, 'id="live-rooms"')
    sidebar = await (await bobs.get("/chat/sidebar")).get_data(as_text=True)
    assert "More rooms" in sidebar and "#lounge" in sidebar


# --- who may change a room ------------------------------------------------------------------------

async def test_only_the_creator_and_administrators_reach_a_rooms_settings(app, sign_in, admin, alice, bob, general):
    closed = await leads(app, alice, bob)
    async with app.app_context():
        lounge = await service.create_room(alice, "lounge", is_open=True)
        await make_user("carol")
    carols = await sign_in("carol")
    bobs = await sign_in("bob")
    for path in (f"/chat/{closed.id}/settings", f"/chat/{closed.id}/delete"):
        assert (await carols.get(path)).status_code == 404  # not in it: it does not exist
        assert (await carols.post(path, {"name": "mine"})).status_code == 404
        assert (await bobs.get(path)).status_code == 403  # in it, not its creator
        assert (await bobs.post(path, {"name": "mine", "open": "open"})).status_code == 403
    assert (await carols.get(f"/chat/{lounge.id}/settings")).status_code == 403  # open: seen, not changed
    assert (await (await sign_in("alice")).get(f"/chat/{closed.id}/settings")).status_code == 200
    assert (await (await sign_in("admin")).get(f"/chat/{closed.id}/settings")).status_code == 200  # not a member
    assert (await Conversation.get(id=closed.id)).name == "leads"
    assert await Conversation.exists(id=closed.id)


async def test_direct_conversations_have_no_room_settings(app, sign_in, alice, bob, general):
    async with app.app_context():
        direct = await service.open_direct(alice, ["bob"])
    alices = await sign_in("alice")
    assert (await alices.get(f"/chat/{direct.id}/settings")).status_code == 404
    assert (await alices.post(f"/chat/{direct.id}/delete")).status_code == 404


@pytest.mark.parametrize("name,error", [
    ("x" * 41, "40 characters"),
    ("a\x00b", "NUL"),
    ("a b", "no spaces"),
    ("", "Give the room a name"),
    ("GENERAL", "already a room"),
    ("gеneral", "one alphabet"),       # a Cyrillic е: mixed scripts
    ("genera1", "looks too much like"),  # a digit one for an l: #general's look-alike
    ("ⅼounge", "already a room"),        # U+217C (roman fifty) is "l" once normalized: #lounge itself
    ("1ounge", "looks too much like"),
    ("Leads", None),                     # its own name in another case: fine
    ("plans", None),
])
async def test_a_rename_is_checked_like_a_new_name(app, client, alice, bob, general, name, error):
    room = await leads(app, alice, bob)
    async with app.app_context():
        await service.create_room(alice, "lounge", is_open=True)
    await client.login("alice")
    response = await client.post(f"/chat/{room.id}/settings", {"name": name, "topic": "kept", "open": "closed"})
    if error is None:
        assert response.status_code == 303
        assert (await Conversation.get(id=room.id)).name == name
        return
    page = await response.get_data(as_text=True)
    assert response.status_code == 422 and error in page and 'id="name-error"' in page
    assert 'value="kept"' in page  # what was typed stays
    assert (await Conversation.get(id=room.id)).name == "leads"


async def test_a_topic_too_long_or_with_a_nul_is_refused_by_its_field(app, client, alice, bob, general):
    room = await leads(app, alice, bob)
    await client.login("alice")
    for topic, error in (("t" * 201, "200 characters"), ("a\x00", "NUL")):
        response = await client.post(f"/chat/{room.id}/settings", {"name": "leads", "topic": topic, "open": "closed"})
        assert response.status_code == 422 and error in await response.get_data(as_text=True)
    assert (await Conversation.get(id=room.id)).topic == ""


async def test_general_keeps_its_name_stays_open_and_is_never_archived_or_deleted(app, sign_in, admin, general):
    admins = await sign_in("admin")
    response = await admins.post(f"/chat/{general.id}/settings", {"name": "everyone", "topic": "", "open": "closed",
                                                                   "archived": "on"})
    assert response.status_code == 422 and "#general is everyone" in await response.get_data(as_text=True)
    assert (await admins.get(f"/chat/{general.id}/delete")).status_code == 403
    assert (await admins.post(f"/chat/{general.id}/delete")).status_code == 403
    response = await admins.post(f"/chat/{general.id}/settings", {"name": "general", "topic": "all hands",
                                                                   "open": "open"})
    assert response.status_code == 303
    room = await Conversation.get(id=general.id)
    assert (room.name, room.topic, room.is_open, room.archived_at) == ("general", "all hands", True, None)


# --- changes: audited, live, exact after a reconnect ------------------------------------------------

async def test_a_rename_and_topic_are_audited_and_reach_open_pages_at_once(app, sign_in, alice, bob, general):
    room = await leads(app, alice, bob)
    bobs, alices = await sign_in("bob"), await sign_in("alice")
    async with page(bobs, room) as socket:
        response = await alices.post(f"/chat/{room.id}/settings", {"name": "team-leads", "topic": "the plan",
                                                                    "open": "closed"})
        assert response.status_code == 303
        got = await receive_until(socket, 'id="live-room"')
        assert 'data-title="#team-leads"' in got and 'data-topic="the plan"' in got and 'data-state="active"' in got
        assert 'data-kind="room.changed"' in got
    entry = await AuditEvent.get(action="room.edited")
    assert audit_log.sentence(entry) == ("alice changed #team-leads: name: leads → team-leads; "
                                         "topic: (none) → the plan.")
    shown = await (await bobs.get(f"/chat/{room.id}")).get_data(as_text=True)
    assert "#team-leads" in shown and "the plan" in shown


async def test_a_page_that_reconnects_gets_the_header_once_in_its_place(app, sign_in, alice, bob, general):
    """Catch-up from the database: the header as it is now, at its number among the messages."""
    room = await leads(app, alice, bob)
    seen = (await Conversation.get(id=room.id)).last_seq
    async with app.app_context():
        first = await service.post(alice, room, "before")
        await service.change_room(alice, room, name="ops")
        await service.change_room(alice, room, topic="the plan")
        after = await service.post(alice, room, "after")
    bobs = await sign_in("bob")
    async with page(bobs, room, after=seen) as socket:
        replay = socket.replay
    headers = [m for m in replay if 'id="live-room"' in m]
    assert len(headers) == 1 and 'data-title="#ops"' in headers[0] and 'data-topic="the plan"' in headers[0]
    order = [("before" if f"message-{first.id}" in m else "after" if f"message-{after.id}" in m else "room")
             for m in replay if 'id="live-seq"' in m]
    assert order == ["before", "room", "after"]
    async with page(bobs, await Conversation.get(id=room.id)) as socket:  # up to date: nothing again
        assert not [m for m in socket.replay if 'id="live-room"' in m]


async def test_programs_hear_room_changed_live_and_in_catch_up(app, alice, bob, general):
    room = await leads(app, alice, bob)
    seen = (await Conversation.get(id=room.id)).last_seq
    api = await api_login(app, "bob")
    async with json_socket(app) as socket:
        await socket.send(json.dumps({"action": "auth", "data": {"token": api.token}}))
        assert (await pushed(socket, "auth"))["data"]
        async with app.app_context():
            await service.change_room(alice, room, topic="live topic")
        got = await pushed(socket, "room.changed")
        assert got["data"] == {"conversation_id": room.id, "name": "leads", "topic": "live topic", "is_open": False,
                               "archived": False}
    async with json_socket(app) as socket:
        await socket.send(json.dumps({"action": "auth", "data": {"token": api.token,
                                                                 "conversations": {str(room.id): seen}}}))
        assert (await pushed(socket, "room.changed"))["data"]["topic"] == "live topic"


# --- open and closed afterwards ----------------------------------------------------------------------

async def test_opening_a_closed_room_lists_it_for_everyone_and_keeps_its_members(app, sign_in, admin, alice, bob,
                                                                                  general):
    room = await leads(app, alice, bob)
    admins = await sign_in("admin")
    settings = await (await (await sign_in("alice")).get(f"/chat/{room.id}/settings")).get_data(as_text=True)
    assert service.OPENING_LISTS_IT in settings
    async with live(admins) as socket:
        async with app.app_context():
            await service.change_room(alice, room, is_open=True)
        await receive_until(socket, 'id="live-rooms"')
    assert "#leads" in await (await admins.get("/chat/sidebar")).get_data(as_text=True)
    assert (await admins.get(f"/chat/{room.id}")).status_code == 200
    assert set(await Membership.filter(conversation_id=room.id).values_list("user_id", flat=True)) == {alice.id, bob.id}


async def test_closing_an_open_room_keeps_its_members_and_says_so(app, sign_in, admin, alice, bob, general):
    async with app.app_context():
        room = await service.create_room(alice, "lounge", is_open=True)
        await service.join(bob, room)
    alices = await sign_in("alice")
    settings = await (await alices.get(f"/chat/{room.id}/settings")).get_data(as_text=True)
    assert service.CLOSING_KEEPS_MEMBERS in settings
    response = await alices.post(f"/chat/{room.id}/settings", {"name": "lounge", "topic": "", "open": "closed"})
    assert response.status_code == 303
    assert (await (await sign_in("bob")).get(f"/chat/{room.id}")).status_code == 200  # still in it
    admins = await sign_in("admin")
    assert "#lounge" not in await (await admins.get("/chat/sidebar")).get_data(as_text=True)
    assert (await admins.post(f"/chat/{room.id}/join")).status_code == 404


# --- archived: read-only ---------------------------------------------------------------------------

async def test_an_archived_room_is_read_only_reachable_and_out_of_the_active_list(app, sign_in, alice, bob, general):
    room = await leads(app, alice, bob)
    async with app.app_context():
        message = await service.post(bob, room, "before the archive")
    alices, bobs = await sign_in("alice"), await sign_in("bob")
    async with page(bobs, room) as socket:
        response = await alices.post(f"/chat/{room.id}/settings", {"name": "leads", "topic": "", "open": "closed",
                                                                    "archived": "on"})
        assert response.status_code == 303
        got = await receive_until(socket, 'id="live-room"')
        assert 'data-state="archived"' in got and "is archived: it is read-only" in got
    response = await bobs.post(f"/chat/{room.id}/messages", {"body": "one more thing"}, htmx=True)
    composer = await response.get_data(as_text=True)
    assert response.status_code == 422 and "#leads is archived" in composer and "one more thing" in composer
    response = await bobs.post(f"/chat/messages/{message.id}", {"body": "edited"})
    assert response.status_code == 422
    assert await Message.filter(conversation_id=room.id).count() == 1
    shown = await (await bobs.get(f"/chat/{room.id}")).get_data(as_text=True)
    assert "before the archive" in shown and "is archived: it is read-only" in shown
    assert 'name="body" rows="2"' in shown and "disabled" in shown.split('name="body"', 1)[1].split(">", 1)[0]
    sidebar = await (await bobs.get("/chat/sidebar")).get_data(as_text=True)
    active, archived = sidebar.split("Archived rooms", 1)
    assert "#leads" not in active.split("More rooms")[0] and "#leads" in archived
    async with app.app_context():
        await service.change_room(alice, await Conversation.get(id=room.id), archived=False)
    response = await bobs.post(f"/chat/{room.id}/messages", {"body": "back again"})
    assert response.status_code == 303


# --- deleted, removed ----------------------------------------------------------------------------------

async def test_deleting_asks_first_then_is_gone_for_everyone_who_is_told_at_once(app, sign_in, alice, bob, general):
    room = await leads(app, alice, bob)
    async with app.app_context():
        await service.post(bob, room, "soon gone")
    alices, bobs = await sign_in("alice"), await sign_in("bob")
    confirm = await (await alices.get(f"/chat/{room.id}/delete")).get_data(as_text=True)
    assert "Delete #leads?" in confirm and "1 message" in confirm
    async with page(bobs, room) as socket:
        assert (await alices.post(f"/chat/{room.id}/delete")).status_code == 303
        got = await receive_until(socket, 'id="live-room"')
        assert 'data-state="deleted"' in got and 'data-notice="#leads was deleted."' in got
        assert f'id="live-membership" data-conversation="{room.id}"' in got
    assert not await Conversation.exists(id=room.id) and not await Message.exists(body="soon gone")
    assert (await bobs.get(f"/chat/{room.id}")).status_code == 404
    assert audit_log.sentence(await AuditEvent.get(action="room.deleted")) == (
        "alice deleted the room #leads and its 1 message.")


async def test_someone_removed_while_the_room_is_open_is_told_at_once(app, sign_in, alice, bob, general):
    room = await leads(app, alice, bob)
    alices, bobs = await sign_in("alice"), await sign_in("bob")
    async with page(bobs, room) as socket:
        response = await alices.post(f"/chat/{room.id}/members/{bob.id}/delete")
        assert response.status_code == 303
        got = await receive_until(socket, 'id="live-room"')
        assert 'data-state="removed"' in got and 'data-notice="You were removed from #leads."' in got
        async with app.app_context():
            await service.post(alice, room, "after bob left")
        assert not [m for m in await barrier(socket) if "after bob left" in m]  # no longer listening


# --- the REST API: the same door ---------------------------------------------------------------------

async def test_programs_change_and_delete_rooms_by_the_same_rules(app, admin, alice, bob, general):
    room = await leads(app, alice, bob)
    alices, bobs, admins = [await api_login(app, name) for name in ("alice", "bob", "admin")]
    path = f"/api/v1/conversations/{room.id}"
    status, body, _ = await alices.patch(path, {"name": "ops", "topic": "t", "is_open": True})
    assert status == 200, body
    assert body["data"]["name"] == "ops" and body["data"]["is_open"] and not body["data"]["archived"]
    status, body, _ = await bobs.patch(path, {"topic": "mine"})
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body, _ = await alices.patch(path, {"name": "x" * 41})
    assert status == 422 and "name" in body["error"]["fields"]
    status, body, _ = await alices.patch(path, {"name": "a\x00"})
    assert status == 422 and "name" in body["error"]["fields"]
    status, body, _ = await admins.patch(f"/api/v1/conversations/{general.id}", {"name": "all"})
    assert status == 422
    status, body, _ = await admins.patch(path, {"archived": True})
    assert status == 200 and body["data"]["archived"]
    status, body, _ = await bobs.post(f"{path}/messages", {"text": "read-only?"})
    assert status == 422
    status, body, _ = await bobs.delete(path)
    assert status == 403
    status, body, _ = await alices.delete(path)
    assert status == 200 and body["data"] == {"success": True}
    status, body, _ = await alices.delete(path)
    assert status == 404
    status, body, _ = await admins.delete(f"/api/v1/conversations/{general.id}")
    assert status == 403


async def test_the_messenger_socket_hears_a_room_change_too(app, alice, bob, general):
    from tests.helpers.api import frame_where

    room = await leads(app, alice, bob)
    api = await api_login(app, "bob")
    async with messenger_socket(app, api.token) as messenger:
        async with app.app_context():
            await service.change_room(alice, room, name="leaders")
        got = await frame_where(messenger, lambda f: f.get("Message") == "room.changed")
        assert got["Data"]["name"] == "leaders" and got["Data"]["conversation_id"] == room.id


async def test_a_closed_rooms_change_tells_nothing_to_those_outside_it(app, sign_in, admin, alice, bob, general):
    room = await leads(app, alice, bob)
    admins, bobs = await sign_in("admin"), await sign_in("bob")
    async with live(admins) as outside, page(bobs, room) as inside:
        async with app.app_context():
            await service.change_room(alice, room, name="hidden", archived=True)
        assert f'id="live-membership" data-conversation="{room.id}"' in await receive_until(inside, "live-membership")
        heard = await barrier(outside)
        assert not [m for m in heard if "live-rooms" in m or "live-room" in m or "hidden" in m]


async def test_a_page_previewing_an_open_room_follows_its_changes(app, sign_in, admin, alice, bob, general):
    """Not a member, so not on the room's topic: an open room's changes come with the rooms event."""
    async with app.app_context():
        room = await service.create_room(alice, "lounge", is_open=True)
    bobs = await sign_in("bob")
    assert "data-preview" in await (await bobs.get(f"/chat/{room.id}")).get_data(as_text=True)
    async with live(bobs) as socket:
        async with app.app_context():
            await service.change_room(alice, room, name="cafe", topic="beans")
        got = await receive_until(socket, 'id="live-rooms"')
        assert f'data-conversation="{room.id}"' in got and 'data-title="#cafe"' in got and 'data-topic="beans"' in got
        async with app.app_context():
            await service.change_room(alice, room, is_open=False)
        got = await receive_until(socket, 'id="live-rooms"')
        assert 'data-state="closed"' in got and "#cafe is now closed" in got
        async with app.app_context():
            await service.delete_room(alice, room)
        heard = await barrier(socket)
        assert not [m for m in heard if f'data-conversation="{room.id}"' in m]  # closed by then: nothing said


async def test_deleting_an_open_room_tells_pages_previewing_it(app, sign_in, admin, alice, bob, general):
    async with app.app_context():
        room = await service.create_room(alice, "lounge", is_open=True)
    async with live(await sign_in("bob")) as socket:
        async with app.app_context():
            await service.delete_room(alice, room)
        got = await receive_until(socket, 'id="live-rooms"')
        assert 'data-state="deleted"' in got and 'data-notice="#lounge was deleted."' in got
