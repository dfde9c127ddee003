"""What a member is notified of in a conversation (app/chat/levels.py), at every door that offers
it: the conversation's header (a form without htmx, htmx, its own page), REST
(/api/v1/conversations/<id>/notifications) and the JSON websocket's `notifications`. Members only
(anyone else, administrators too, gets the conversation's 404); a bad level is refused naming the
field, where the person looks; rooms default to mentions, direct conversations to all."""
from __future__ import annotations

import re

import pytest

from app.chat import levels
from app.chat import service as chat
from app.domain import Invalid, NotFound
from app.models import Membership
from app.models.notify import effective_level
from tests.helpers.api import Api, act, api_login, json_socket, pushed
from tests.helpers.html import toast
from tests.helpers.live import live, receive_until


@pytest.fixture
async def rooms(app, admin, alice, bob, general):
    """#general (everyone), alice's closed #secret (alice only), and alice's direct conversation with bob."""
    async with app.app_context():
        secret = await chat.create_room(alice, "secret", "", is_open=False)
        direct = await chat.open_direct(alice, ["bob"])
    return general, secret, direct


async def stored(user, conversation) -> str | None:
    return (await Membership.get(user_id=user.id, conversation_id=conversation.id)).notify


def selected(html: str) -> str:
    found = re.findall(r'<option value="(\w+)" selected>', html)
    assert len(found) == 1, found
    return found[0]


# --- the rule ---------------------------------------------------------------------------------------

async def test_rooms_default_to_mentions_and_direct_conversations_to_all(rooms, alice):
    general, _, direct = rooms
    assert (await levels.get(alice, general.id))[1] == levels.Level("mentions", True, "mentions")
    assert (await levels.get(alice, direct.id))[1] == levels.Level("all", True, "all")


async def test_a_chosen_level_is_stored_and_null_goes_back_to_the_default(app, rooms, alice, bob):
    general, _, direct = rooms
    async with app.app_context():  # each choice is published to the member's pages
        await chosen_and_undone(general, direct, alice, bob)


async def chosen_and_undone(general, direct, alice, bob) -> None:
    _, level = await levels.choose(alice, general.id, "nothing")
    assert level == levels.Level("nothing", False, "mentions") and level.name == "Nothing"
    assert await stored(alice, general) == "nothing" and await stored(bob, general) is None
    _, level = await levels.choose(alice, general.id, "mentions")  # the default, chosen: kept as chosen
    assert level == levels.Level("mentions", False, "mentions")
    assert (await levels.choose(alice, direct.id, "mentions"))[1].level == "mentions"
    assert effective_level(direct.kind, await stored(alice, direct)) == "mentions"  # what app/notify reads
    assert (await levels.choose(alice, general.id, None))[1] == levels.Level("mentions", True, "mentions")
    assert await stored(alice, general) is None


@pytest.mark.parametrize("bad", ["", "loud", "ALL", " all", "all\x00", "x" * 10_000, 3, True, ["all"],
                                 {"level": "all"}])
async def test_anything_but_the_three_levels_is_refused_naming_the_field(app, rooms, alice, bad):
    general, _, _ = rooms
    async with app.app_context():
        await levels.choose(alice, general.id, "all")
        with pytest.raises(Invalid) as refused:
            await levels.choose(alice, general.id, bad)
    assert refused.value.errors == {"level": levels.BAD_LEVEL}
    assert await stored(alice, general) == "all"


async def test_only_members_have_a_level_administrators_included(rooms, admin, bob):
    general, secret, direct = rooms
    for person, conversation in ((bob, secret), (admin, secret), (admin, direct)):
        with pytest.raises(NotFound):
            await levels.get(person, conversation.id)
        with pytest.raises(NotFound):
            await levels.choose(person, conversation.id, "bad level too")  # not found comes first
    with pytest.raises(NotFound):
        await levels.get(bob, 999_999)


async def test_an_open_room_one_has_not_joined_has_no_level_until_one_joins(app, rooms, alice, bob):
    async with app.app_context():
        lobby = await chat.create_room(alice, "lobby", "", is_open=True)
        with pytest.raises(NotFound):
            await levels.choose(bob, lobby.id, "all")
        await chat.join(bob, lobby)
        assert (await levels.choose(bob, lobby.id, "all"))[1].level == "all"


# --- the conversation's header ---------------------------------------------------------------------

async def test_the_header_shows_the_level_and_a_form_sets_it_without_javascript(client, rooms, alice):
    general, _, direct = rooms
    await client.login("alice")
    page = await (await client.get(f"/chat/{general.id}")).get_data(as_text=True)
    assert f'action="/chat/{general.id}/notifications"' in page and "Notify me of" in page
    assert selected(page) == "mentions" and "Mentions only (default)" in page
    assert "<noscript><button" in page  # Save, for a browser without scripts (htmx saves on change)

    response = await client.post(f"/chat/{general.id}/notifications", {"level": "nothing"})
    assert response.status_code == 303 and response.headers["Location"] == f"/chat/{general.id}"
    assert await stored(alice, general) == "nothing"
    page = await (await client.get(f"/chat/{general.id}")).get_data(as_text=True)
    assert selected(page) == "nothing" and "Notifications for #general: Nothing." in page  # flashed
    direct_page = await (await client.get(f"/chat/{direct.id}")).get_data(as_text=True)
    assert selected(direct_page) == "all" and "All messages (default)" in direct_page


async def test_with_htmx_the_form_answers_with_itself_and_a_toast(client, rooms, alice):
    general, _, _ = rooms
    await client.login("alice")
    response = await client.post(f"/chat/{general.id}/notifications", {"level": "all"}, htmx=True)
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<form class="level-form" id="conversation-{general.id}-level"')
    assert selected(body) == "all" and "<html" not in body
    assert toast(response) == "Notifications for #general: All messages."


async def test_its_own_page_for_a_browser_and_the_fragment_for_htmx(client, rooms, alice):
    _, _, direct = rooms
    await client.login("alice")
    page = await (await client.get(f"/chat/{direct.id}/notifications")).get_data(as_text=True)
    assert "<h1" in page and "Notifications for this conversation" in page and selected(page) == "all"
    fragment = await (await client.get(f"/chat/{direct.id}/notifications", headers={"HX-Request": "true"})).get_data(
        as_text=True)
    assert "<h1" not in fragment and selected(fragment) == "all"


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("bad", ["", "loud", "x" * 5000, "\x00\x1b[31m"])
async def test_a_bad_level_is_said_beside_the_choice_and_nothing_changes(client, rooms, alice, htmx, bad):
    general, _, _ = rooms
    await client.login("alice")
    response = await client.post(f"/chat/{general.id}/notifications", {"level": bad}, htmx=htmx)
    body = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert levels.BAD_LEVEL in body and 'aria-invalid="true"' in body and 'role="alert"' in body
    assert selected(body) == "mentions" and await stored(alice, general) is None
    assert ("<h1" in body) != htmx


async def test_no_level_for_someone_who_may_not_read_it_nor_for_an_administrator(sign_in, rooms, alice, bob, admin):
    general, secret, direct = rooms
    for person, conversation in (("bob", secret), ("admin", secret), ("admin", direct)):
        client = await sign_in(person)
        assert (await client.get(f"/chat/{conversation.id}/notifications")).status_code == 404
        assert (await client.post(f"/chat/{conversation.id}/notifications", {"level": "all"})).status_code == 404
        assert (await client.post(f"/chat/{conversation.id}/notifications", {"level": "all"},
                                  htmx=True)).status_code == 404
    assert await stored(alice, secret) is None and await stored(alice, direct) is None


async def test_nobody_signed_in_is_sent_to_log_in(client, rooms):
    general, _, _ = rooms
    assert (await client.get(f"/chat/{general.id}/notifications")).status_code == 401
    assert (await client.post(f"/chat/{general.id}/notifications", {"level": "all"})).status_code == 401


async def test_a_preview_of_an_open_room_has_no_level_control(app, client, rooms, alice, bob):
    async with app.app_context():
        lobby = await chat.create_room(alice, "lobby", "", is_open=True)
    await client.login("bob")
    page = await (await client.get(f"/chat/{lobby.id}")).get_data(as_text=True)
    assert "Join #lobby" in page and "Notify me of" not in page


# --- programs --------------------------------------------------------------------------------------------

async def test_rest_reads_and_sets_the_level(app, rooms, alice, bob, admin):
    general, secret, direct = rooms
    api = await api_login(app, "alice")
    path = f"/api/v1/conversations/{general.id}/notifications"
    status, body, _ = await api.get(path)
    assert (status, body) == (200, {"data": {"level": "mentions", "default": True}})
    status, body, _ = await api.put(path, {"level": "nothing"})
    assert (status, body) == (200, {"data": {"level": "nothing", "default": False}})
    assert await stored(alice, general) == "nothing"
    status, body, _ = await api.put(path, {"level": None})
    assert (status, body) == (200, {"data": {"level": "mentions", "default": True}})
    status, body, _ = await api.get(f"/api/v1/conversations/{direct.id}/notifications")
    assert body == {"data": {"level": "all", "default": True}}

    for bad in ({"level": "loud"}, {"level": 3}, {"level": "x" * 9000}, {}):
        status, body, _ = await api.put(path, bad)
        assert status == 422 and body["error"]["code"] == "invalid" and "level" in body["error"]["fields"], bad
    assert await stored(alice, general) is None

    for who, conversation in (("bob", secret), ("admin", secret), ("admin", direct)):
        other = await api_login(app, who)
        url = f"/api/v1/conversations/{conversation.id}/notifications"
        assert (await other.get(url))[0] == 404
        status, body, _ = await other.put(url, {"level": "all"})
        assert status == 404 and body["error"]["code"] == "not_found"
    nobody = Api(app)
    assert (await nobody.get(path))[0] == 401 and (await nobody.put(path, {"level": "all"}))[0] == 401


async def test_the_json_websocket_reads_and_sets_the_level(app, rooms, alice, bob):
    general, secret, _ = rooms
    token = (await api_login(app, "alice")).token
    async with json_socket(app) as socket:
        await act(socket, "auth", {"token": token})
        answer = await act(socket, "notifications", {"conversation_id": general.id})
        assert answer["data"] == {"level": "mentions", "default": True}
        answer = await act(socket, "notifications", {"conversation_id": general.id, "level": "all"})
        assert answer["data"] == {"level": "all", "default": False}
        assert await stored(alice, general) == "all"
        refused = await act(socket, "notifications", {"conversation_id": general.id, "level": "loud"})
        assert refused["fields"] == {"level": levels.BAD_LEVEL} and refused["error"]
        refused = await act(socket, "notifications", {"conversation_id": general.id, "level": ["all"]})
        assert "level" in refused["fields"]
        answer = await act(socket, "notifications", {"conversation_id": general.id, "level": None})
        assert answer["data"] == {"level": "mentions", "default": True}
        refused = await act(socket, "notifications", {"conversation_id": "x"})
        assert "conversation_id" in refused["fields"]
    bobs = (await api_login(app, "bob")).token
    async with json_socket(app) as socket:
        await act(socket, "auth", {"token": bobs})
        refused = await act(socket, "notifications", {"conversation_id": secret.id, "level": "all"})
        assert "error" in refused and "data" not in refused
    assert await stored(alice, secret) is None


async def test_every_tab_and_program_of_the_member_hears_a_new_level(app, client, rooms, alice):
    general, _, _ = rooms
    await client.login("alice")
    api = await api_login(app, "alice")
    async with live(client) as page, json_socket(app) as socket:
        await act(socket, "auth", {"token": api.token})
        await client.post(f"/chat/{general.id}/notifications", {"level": "nothing"}, htmx=True)
        heard = await receive_until(page, 'id="live-level"')
        assert f'data-conversation="{general.id}"' in heard and 'data-level="nothing"' in heard
        frame = await pushed(socket, "notifications.changed")
        assert frame["data"] == {"conversation_id": general.id, "level": "nothing", "default": False}
        await api.put(f"/api/v1/conversations/{general.id}/notifications", {"level": None})
        assert 'data-level="mentions"' in await receive_until(page, 'id="live-level"')
