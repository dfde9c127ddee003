"""Who is told of what (app/notify/service.py), read from a real push receiver (tests/helpers/
push_receiver.py: VAPID checked, payload decrypted) after the delivery worker has run: for each
level in a room and in a direct conversation, who gets a push and how urgent; never the sender,
never someone whose visible page shows that conversation (the page's socket says so), never for a
message already read, never through a session that ended; an edit that adds a mention tells only
the person added; reading closes the notifications on every device and page; @everyone in a room
of 50 reaches each subscribed member once."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app import clock
from app.chat import service as chat
from app.config import Settings
from app.models import Membership, UserSession
from app.notify import service
from app.runtime import Runtime
from tests.helpers.accounts import make_user
from tests.helpers.api import api_login
from tests.helpers.chat import welcomed
from tests.helpers.live import barrier, page, receive_until

SUBSCRIPTIONS = "/api/v1/push/subscriptions"


@pytest.fixture
def settings(settings, receiver) -> Settings:
    return settings.replace(push_allowed_origins=(receiver.origin,))


@pytest.fixture
async def room(app, admin, alice, bob):
    async with app.app_context():
        return await welcomed(admin, alice, bob)


@pytest.fixture
async def direct(app, alice, bob):
    async with app.app_context():
        return await chat.open_direct(alice, ["bob"])


async def device(app, receiver, username: str):
    """A browser of username's that turned notifications on: (its API session, its fake browser)."""
    api = await api_login(app, username)
    browser = receiver.browser(username)
    status, body, _ = await api.post(SUBSCRIPTIONS, browser.subscription())
    assert status == 201, body
    return api, browser


async def post(app, author, conversation, text, **options):
    """Post as author, then run the delivery worker: every push it queued has been answered."""
    async with app.app_context():
        message = await chat.post(author, conversation, text, **options)
    await Runtime.of(app).push.deliver_due()
    return message


def pushes(receiver, browser) -> list[dict]:
    return [each for each in receiver.pushes(browser) if not each.problems]


async def set_level(user, conversation, level):
    await Membership.filter(user_id=user.id, conversation_id=conversation.id).update(notify=level)


# --- levels ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("level", "plain", "mentioned"), [
    (None, False, True),        # rooms default to mentions
    ("all", True, True),
    ("mentions", False, True),
    ("nothing", False, False),
])
async def test_in_a_room_each_level_pushes_what_it_says(app, receiver, alice, bob, room, level, plain, mentioned):
    _, bobs = await device(app, receiver, "bob")
    await set_level(bob, room, level)
    message = await post(app, alice, room, "hello all")
    got = pushes(receiver, bobs)
    assert len(got) == plain
    if plain:
        assert got[0].payload["title"] == "#general" and got[0].payload["body"] == "alice: hello all"
        assert got[0].payload["url"] == f"/chat/{room.id}/messages/{message.id}"
        assert got[0].headers["urgency"] == "normal" and got[0].headers["topic"] == f"conversation-{room.id}"
    await post(app, alice, room, "@bob look")
    got = pushes(receiver, bobs)[int(plain):]
    assert len(got) == mentioned
    if mentioned:
        assert got[0].headers["urgency"] == "high" and got[0].payload["body"] == "alice: @bob look"


@pytest.mark.parametrize(("level", "plain", "mentioned"), [
    (None, True, True),         # direct conversations default to every message
    ("all", True, True),
    ("mentions", False, True),
    ("nothing", False, False),
])
async def test_in_a_direct_conversation_each_level_pushes_what_it_says(app, receiver, alice, bob, direct, level,
                                                                       plain, mentioned):
    _, bobs = await device(app, receiver, "bob")
    await set_level(bob, direct, level)
    await post(app, alice, direct, "lunch?")
    got = pushes(receiver, bobs)
    assert len(got) == plain
    if plain:  # titled by the sender; a direct message is urgent
        assert got[0].payload["title"] == "alice" and got[0].payload["body"] == "lunch?"
        assert got[0].headers["urgency"] == "high"
    await post(app, alice, direct, "@bob lunch?")
    assert len(pushes(receiver, bobs)) == int(plain) + int(mentioned)


async def test_the_sender_is_never_told(app, receiver, alice, bob, room, direct):
    _, alices = await device(app, receiver, "alice")
    await set_level(alice, room, "all")
    await post(app, alice, room, "@alice note to self")
    await post(app, alice, direct, "@alice note to self")
    assert pushes(receiver, alices) == []


async def test_nobody_is_told_of_a_message_they_have_already_read(app, alice, bob, direct):
    async with app.app_context():
        message = await chat.post(alice, direct, "read at once")
        assert bob.id in (await service.recipients(message, set())).urgent
        await chat.mark_read(bob, direct, message.seq)
        assert not (await service.recipients(message, {bob.id})).everyone


async def test_an_edit_that_adds_a_mention_tells_only_the_person_added(app, receiver, admin, alice, bob, room):
    _, admins = await device(app, receiver, "admin")
    _, bobs = await device(app, receiver, "bob")
    await set_level(admin, room, "all")
    message = await post(app, alice, room, "hello")
    assert len(pushes(receiver, admins)) == 1 and pushes(receiver, bobs) == []
    async with app.app_context():
        await chat.edit(alice, await chat.get_message(alice, message.id), "hello @bob")
    await Runtime.of(app).push.deliver_due()
    assert len(pushes(receiver, admins)) == 1  # told of the post already
    got = pushes(receiver, bobs)
    assert len(got) == 1 and got[0].payload["body"] == "alice: hello @bob" and got[0].headers["urgency"] == "high"


async def test_a_logged_out_or_expired_session_gets_no_push(app, receiver, alice, bob, direct):
    gone, old = await device(app, receiver, "bob"), await device(app, receiver, "bob")
    status, _, _ = await gone[0].post("/api/v1/logout")
    assert status in (200, 204)
    session = await UserSession.filter(user_id=bob.id).order_by("-id").first()
    await UserSession.filter(id=session.id).update(last_seen_at=clock.now() - timedelta(days=400))
    await post(app, alice, direct, "anyone there?")
    assert pushes(receiver, gone[1]) == [] and pushes(receiver, old[1]) == []


async def test_everyone_in_a_room_of_fifty_is_pushed_once_each(app, receiver, admin, alice, bob, room):
    people = [await make_user(f"member{n}") for n in range(47)]
    async with app.app_context():
        for person in people:
            await chat.welcome(person)
    assert await Membership.filter(conversation_id=room.id).count() == 50
    browsers = {person.id: (await device(app, receiver, person.username))[1] for person in [bob, *people]}
    await post(app, alice, room, "@everyone meeting now", confirm_everyone=True)
    for browser in browsers.values():
        got = pushes(receiver, browser)
        assert len(got) == 1 and got[0].headers["urgency"] == "high"


# --- who is looking -----------------------------------------------------------------------------

async def viewing(socket, conversation_id, visible):
    """The page says what it shows (static/js/viewing.js), then a hello's answer: it was heard."""
    await socket.send(json.dumps({"type": "viewing", "conversation": conversation_id, "visible": visible}))
    await barrier(socket)


async def test_a_visible_page_on_the_conversation_is_not_told_a_hidden_one_is(app, client, receiver, alice, bob,
                                                                              direct):
    _, bobs = await device(app, receiver, "bob")
    await client.login("bob")
    async with page(client, direct) as tab:
        await viewing(tab, direct.id, True)
        await post(app, alice, direct, "seen here")
        assert pushes(receiver, bobs) == []
        assert not any('id="live-notification"' in each for each in await barrier(tab))
        await viewing(tab, direct.id, False)  # the tab went to the background
        message = await post(app, alice, direct, "lunch?")
        assert len(pushes(receiver, bobs)) == 1
        shown = await receive_until(tab, 'id="live-notification"')
        assert 'data-action="show"' in shown and 'data-title="alice"' in shown and 'data-body="lunch?"' in shown
        assert f'data-url="/chat/{direct.id}/messages/{message.id}"' in shown
        assert f'data-tag="conversation-{direct.id}"' in shown and "data-urgent" in shown
        await viewing(tab, direct.id, True)
    await post(app, alice, direct, "after the page closed")  # nobody looking any more
    assert len(pushes(receiver, bobs)) == 2


async def test_a_visible_page_on_another_conversation_is_told(app, client, receiver, alice, bob, room, direct):
    _, bobs = await device(app, receiver, "bob")
    await client.login("bob")
    async with page(client, room) as tab:
        await viewing(tab, room.id, True)
        await post(app, alice, direct, "over here")
    assert len(pushes(receiver, bobs)) == 1


@pytest.mark.parametrize("claim", [
    {"conversation": "1", "visible": True}, {"conversation": True, "visible": True}, {"conversation": None},
    {"conversation": 2**40, "visible": True}, {"visible": "yes"}, {"conversation": [1], "visible": 1},
])
async def test_a_malformed_viewing_message_counts_as_looking_at_nothing(app, client, alice, bob, direct, claim):
    await client.login("bob")
    async with page(client, direct) as tab:
        await viewing(tab, direct.id, True)
        await tab.send(json.dumps({"type": "viewing", **claim}))
        await barrier(tab)  # and the socket reads on
        assert await Runtime.of(app).viewing.watching(direct.id, {bob.id}) == set()


async def test_claiming_to_look_at_someone_elses_conversation_changes_nothing(app, client, admin, alice, bob,
                                                                               direct):
    await client.login("admin")  # an administrator, not in alice and bob's conversation
    async with page(client, None) as tab:
        await viewing(tab, direct.id, True)
        assert await Runtime.of(app).viewing.watching(direct.id, {admin.id, alice.id, bob.id}) == set()


async def test_looking_is_forgotten_when_the_page_goes(app, client, bob, room):
    await client.login("bob")
    async with page(client, room) as tab:
        await viewing(tab, room.id, True)
        assert await Runtime.of(app).viewing.watching(room.id, {bob.id}) == {bob.id}
    assert await Runtime.of(app).viewing.watching(room.id, {bob.id}) == set()


# --- reading closes ------------------------------------------------------------------------------

async def test_reading_closes_the_notification_on_every_device_and_page(app, client, receiver, alice, bob, direct):
    _, phone = await device(app, receiver, "bob")
    _, laptop = await device(app, receiver, "bob")
    await client.login("bob")
    async with page(client, None) as tab:  # another page of bob's, hidden
        await viewing(tab, None, False)
        first = await post(app, alice, direct, "lunch?")
        second = await post(app, alice, direct, "at noon?")
        assert [len(pushes(receiver, each)) for each in (phone, laptop)] == [2, 2]
        await receive_until(tab, 'data-action="show"')
        async with app.app_context():
            await chat.mark_read(bob, direct, first.seq)  # not yet what was shown last: it stays
        await Runtime.of(app).push.deliver_due()
        assert [len(pushes(receiver, each)) for each in (phone, laptop)] == [2, 2]
        async with app.app_context():
            await chat.mark_read(bob, direct, second.seq)
        await Runtime.of(app).push.deliver_due()
        for each in (phone, laptop):
            got = pushes(receiver, each)
            assert len(got) == 3 and got[-1].payload == {"close": f"conversation-{direct.id}"}
        closed = await receive_until(tab, 'id="live-notification" data-action="close"')
        assert f'data-tag="conversation-{direct.id}"' in closed
    async with app.app_context():  # closed once: reading again sends nothing
        assert not await service.read(bob.id, direct.id, second.seq)


async def test_replying_closes_the_repliers_own_notification_of_the_conversation(app, receiver, alice, bob, direct):
    _, phone = await device(app, receiver, "bob")
    await post(app, alice, direct, "lunch?")
    await post(app, bob, direct, "yes!")  # from another device: what one posts, one has read
    got = pushes(receiver, phone)
    assert len(got) == 2 and got[-1].payload == {"close": f"conversation-{direct.id}"}


async def test_without_previews_neither_the_push_nor_the_page_shows_the_text(app, client, receiver, settings, alice,
                                                                              bob, direct):
    Runtime.of(app).settings = settings.replace(push_preview=False, push_allowed_origins=(receiver.origin,))
    _, phone = await device(app, receiver, "bob")
    await client.login("bob")
    async with page(client, None) as tab:
        await post(app, alice, direct, "the secret plan")
        shown = await receive_until(tab, 'id="live-notification"')
    assert 'data-body="New message"' in shown and "secret" not in shown
    [got] = pushes(receiver, phone)
    assert got.payload["body"] == "New message" and got.payload["title"] == "alice"
