"""Whom "@" offers in a composer (app/chat/people.py, GET /chat/<id>/people): only people who may
read the conversation (may_read: its members, everyone for an open room), never the asker; those
who spoke there lately first, then by name; usernames and display names alike, case and accents
aside; at most 8; @everyone only in a room that allows it. Members ask (they have the composer):
anyone else, administrators too, gets a 404; nothing typed, however odd, is a server error."""
from __future__ import annotations

import re

import pytest

from app.chat import people
from app.chat import service as chat
from app.domain import NotFound
from app.models import Conversation, User
from tests.helpers.accounts import make_user


async def named(username: str, display_name: str = ""):
    user = await make_user(username)
    if display_name:
        user.set_display_name(display_name)
        await user.save()
    return user


@pytest.fixture
async def crowd(app, admin, alice, bob, general):
    """#general with alice, bob, the admin, José Díaz (jd), Zoë Alvarez (zoe) and Al (al)."""
    async with app.app_context():
        for username, display_name in (("jd", "José Díaz"), ("zoe", "Zoë Alvarez"), ("al", "")):
            await chat.welcome(await named(username, display_name))
    return general


async def offered(user, conversation: Conversation, typed: str = "") -> list[str]:
    _, found = await people.to_mention(user, conversation.id, typed)
    return [each.username for each in found]


# --- the rule ---------------------------------------------------------------------------------------

async def test_those_who_spoke_lately_come_first_then_by_name(app, crowd, alice, bob):
    zoe = await User.get(username="zoe")
    async with app.app_context():
        await chat.post(bob, crowd, "morning")
        await chat.post(zoe, crowd, "hi all")
        await chat.post(alice, crowd, "hello")  # the asker is never offered, however lately she spoke
    # zoe spoke last, then bob; the rest by the name shown (display name, else username).
    assert await offered(alice, crowd) == ["zoe", "bob", "admin", "al", "jd", "everyone"]
    assert await offered(alice, crowd, "a") == ["zoe", "admin", "al"]  # among those who match, the same order


async def test_display_names_and_usernames_match_case_and_accents_aside(crowd, alice):
    assert await offered(alice, crowd, "jose") == ["jd"]
    assert await offered(alice, crowd, "DÍAZ") == ["jd"]
    assert await offered(alice, crowd, "diaz") == ["jd"]
    assert await offered(alice, crowd, "JD") == ["jd"]
    assert await offered(alice, crowd, "zoe") == ["zoe"]
    assert await offered(alice, crowd, "al") == ["al", "zoe"]  # al by username, Zoë by "Alvarez"
    assert await offered(alice, crowd, "@bo") == ["bob"]  # the "@" itself, sent too, is not part of a name
    assert await offered(alice, crowd, "nobody-like-this") == []


async def test_at_most_eight_and_everyone_is_one_of_them(app, crowd, alice):
    async with app.app_context():
        for n in range(12):
            await chat.welcome(await make_user(f"member{n:02}"))
    found = await offered(alice, crowd, "member")
    assert found == [f"member{n:02}" for n in range(8)]
    everything = await offered(alice, crowd)
    assert len(everything) == people.LIMIT and everything[-1] == "everyone"


async def test_the_asker_is_not_offered(crowd, alice):
    assert "alice" not in await offered(alice, crowd) and await offered(alice, crowd, "alic") == []


async def test_a_closed_room_offers_its_members_only(app, crowd, alice, bob):
    async with app.app_context():
        secret = await chat.create_room(alice, "secret", "", is_open=False, member_names=["bob"])
    assert await offered(alice, secret) == ["bob", "everyone"]
    assert await offered(alice, secret, "jo") == []  # jd is in #general, not here
    assert await offered(bob, secret) == ["alice", "everyone"]


async def test_an_open_room_offers_everyone_who_may_read_it(app, crowd, alice):
    async with app.app_context():
        lobby = await chat.create_room(alice, "lobby", "", is_open=True)
    assert set(await offered(alice, lobby)) == {"admin", "bob", "jd", "zoe", "al", "everyone"}


async def test_a_direct_conversation_offers_its_people_and_never_everyone(app, crowd, alice):
    async with app.app_context():
        direct = await chat.open_direct(alice, ["bob", "jd"])
    assert await offered(alice, direct) == ["bob", "jd"]
    assert await offered(alice, direct, "every") == []


async def test_everyone_only_where_the_room_allows_it(app, crowd, alice):
    assert await offered(alice, crowd, "ev") == ["everyone"]
    assert "everyone" not in await offered(alice, crowd, "bo")
    await Conversation.filter(id=crowd.id).update(everyone_allowed=False)
    assert await offered(alice, crowd, "ev") == []
    assert "everyone" not in await offered(alice, crowd)


async def test_only_members_ask_administrators_included(app, crowd, alice, bob, admin):
    async with app.app_context():
        secret = await chat.create_room(alice, "secret", "", is_open=False)
        lobby = await chat.create_room(alice, "lobby", "", is_open=True)
    for person, conversation in ((bob, secret), (admin, secret), (bob, lobby)):
        with pytest.raises(NotFound):
            await people.to_mention(person, conversation.id, "a")
    with pytest.raises(NotFound):
        await people.to_mention(bob, 999_999, "")


@pytest.mark.parametrize("typed", ["x" * 65, "a" * 10_000, "\x00", "\x1b[31m", "%", "_", "' OR 1=1 --", "\ud800",
                                   "b\u200bob", "\u202ebob"])
async def test_odd_input_finds_nobody_and_breaks_nothing(crowd, alice, typed):
    assert await offered(alice, crowd, typed) == []


# --- the door -------------------------------------------------------------------------------------------

async def test_a_composer_gets_the_options_fragment(app, client, crowd, alice, bob):
    await client.login("alice")
    response = await client.get(f"/chat/{crowd.id}/people?q=b", headers={"HX-Request": "true"})
    body = await response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert re.findall(r'data-mention="([^"]+)"', body) == ["bob"]
    everyone = await (await client.get(f"/chat/{crowd.id}/people?q=ev", headers={"HX-Request": "true"})).get_data(
        as_text=True)
    assert 'data-mention="everyone"' in everyone and "everyone in #general" in everyone
    named_one = await (await client.get(f"/chat/{crowd.id}/people?q=jos", headers={"HX-Request": "true"})).get_data(
        as_text=True)
    assert "José Díaz" in named_one and "@jd" in named_one


async def test_a_plain_browser_gets_a_page_of_whom_to_mention(client, crowd, alice):
    await client.login("alice")
    page = await (await client.get(f"/chat/{crowd.id}/people?q=zo")).get_data(as_text=True)
    assert "<h1" in page and "People to mention in #general" in page and 'data-mention="zoe"' in page
    assert f'href="/chat/{crowd.id}"' in page
    nobody = await (await client.get(f"/chat/{crowd.id}/people?q=qqq")).get_data(as_text=True)
    assert "Nobody here has a name starting with “qqq”" in nobody


async def test_names_are_text_never_markup(app, client, crowd, alice):
    async with app.app_context():
        await chat.welcome(await named("markup", "<img src=x onerror=alert(1)>"))
    await client.login("alice")
    body = await (await client.get(f"/chat/{crowd.id}/people?q=markup", headers={"HX-Request": "true"})).get_data(
        as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in body and "<img" not in body


async def test_the_composer_and_the_edit_form_say_where_to_ask(app, client, crowd, alice):
    async with app.app_context():
        mine = await chat.post(alice, crowd, "typo")
    await client.login("alice")
    page = await (await client.get(f"/chat/{crowd.id}")).get_data(as_text=True)
    assert f'data-mention-url="/chat/{crowd.id}/people"' in page
    assert f'id="conversation-{crowd.id}-mention-list"' in page and 'role="listbox"' in page
    assert 'role="combobox"' not in page  # a plain text box until a script opens its list
    edit = await (await client.get(f"/chat/messages/{mine.id}/edit", headers={"HX-Request": "true"})).get_data(
        as_text=True)
    assert f'data-mention-url="/chat/{crowd.id}/people"' in edit and f'id="message-{mine.id}-mention-list"' in edit


@pytest.mark.parametrize("query", ["", "?q=", "?q=" + "a" * 5000, "?q=%00%1b", "?q=%ff%fe", "?q=%F0%9F%98%80",
                                   "?q=a&q=b", "?q=@"])
async def test_odd_queries_are_answered_never_a_500(client, crowd, alice, query):
    await client.login("alice")
    for headers in ({}, {"HX-Request": "true"}):
        response = await client.get(f"/chat/{crowd.id}/people{query}", headers=headers)
        assert response.status_code == 200, query


async def test_nobody_else_asks(app, client, sign_in, crowd, alice, bob, admin):
    async with app.app_context():
        secret = await chat.create_room(alice, "secret", "", is_open=False)
    assert (await client.get(f"/chat/{crowd.id}/people?q=a")).status_code == 401
    for person in ("bob", "admin"):
        client = await sign_in(person)
        for headers in ({}, {"HX-Request": "true"}):
            assert (await client.get(f"/chat/{secret.id}/people?q=a", headers=headers)).status_code == 404
