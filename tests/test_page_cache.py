"""The sidebar's context is cached per person (app/chat/sidebar_cache.py): a page served from that
cache must show every change that touches the sidebar, made through the services as the routes
make them (the key is read from the database, never told by an in-process event), and made by
another process on the same database (another worker). Each case loads the page once first, so
the change is always seen by a page that had a cached sidebar before it."""
from __future__ import annotations

import re

import pytest

from app.accounts import names as account_names
from app.chat import levels, sidebar_cache, threads
from app.chat import service as chat
from app.models import Conversation, User
from app.models.actor import SYSTEM
from tests.helpers.accounts import make_user
from tests.helpers.chat import lift_posting_limit
from tests.helpers.client import Client
from tests.helpers.postgres import child_main, in_child, pg_site

SIDEBAR = re.compile(r'<nav id="sidebar".*?</nav>', re.S)


async def sidebar(client: Client, conversation_id: int) -> str:
    page = await client.get(f"/chat/{conversation_id}")
    assert page.status_code == 200
    return SIDEBAR.search(await page.get_data(as_text=True)).group(0)


def unread_of(html: str, conversation_id: int) -> int:
    return int(re.search(rf'id="conversation-{conversation_id}-unread" class="unread" data-count="(\d+)"', html)[1])


def mentions_of(html: str, conversation_id: int) -> int:
    return int(re.search(rf'id="conversation-{conversation_id}-mentions" class="mention-count" data-count="(\d+)"',
                         html)[1])


def threads_unread(html: str) -> int:
    return int(re.search(r'data-threads-unread data-count="(\d+)"', html)[1])


@pytest.fixture
async def alices(app, general, sign_in):
    lift_posting_limit(app)
    client = await sign_in("alice")
    first = await sidebar(client, general.id)
    assert await sidebar(client, general.id) == first  # the second page is served from the cache
    return client


async def test_a_page_is_served_from_the_cache_until_something_changes(app, general, alices):
    hits = sidebar_cache.stats["hits"]
    await sidebar(alices, general.id)
    assert sidebar_cache.stats["hits"] == hits + 1


async def test_messages_reading_deleting_and_mentions(app, general, alice, bob, alices):
    async with app.app_context():
        room = await chat.create_room(bob, "plans", is_open=True)
        await chat.join(alice, room)
        await sidebar(alices, general.id)
        first = await chat.post(bob, room, "one")
        assert unread_of(await sidebar(alices, general.id), room.id) == 1
        await chat.post(bob, room, "two @alice")
        html = await sidebar(alices, general.id)
        assert (unread_of(html, room.id), mentions_of(html, room.id)) == (2, 1)
        await chat.delete(bob, first)
        assert unread_of(await sidebar(alices, general.id), room.id) == 1
        mention = (await chat.history(room))[0][-1]
        await chat.edit(bob, mention, "two, no mention")
        assert mentions_of(await sidebar(alices, general.id), room.id) == 0
        await chat.mark_read(alice, await Conversation.get(id=room.id))
        assert unread_of(await sidebar(alices, general.id), room.id) == 0


async def test_rooms_made_joined_renamed_archived_closed_left_deleted(app, general, alice, bob, alices):
    async with app.app_context():
        room = await chat.create_room(bob, "garden", is_open=True)
        assert 'More rooms' in (html := await sidebar(alices, general.id)) and "#garden" in html
        await chat.join(alice, room)
        html = await sidebar(alices, general.id)
        assert "More rooms" not in html and f'href="/chat/{room.id}"' in html
        await chat.change_room(bob, room, name="orchard")
        assert "#orchard" in (html := await sidebar(alices, general.id)) and "#garden" not in html
        await chat.change_room(bob, room, archived=True)
        assert "Archived rooms" in await sidebar(alices, general.id)
        await chat.change_room(bob, room, archived=False)
        await chat.leave(alice, await Conversation.get(id=room.id))
        assert "#orchard" in (html := await sidebar(alices, general.id)) and "More rooms" in html
        await chat.change_room(bob, await Conversation.get(id=room.id), is_open=False)
        assert "#orchard" not in await sidebar(alices, general.id)
        other = await chat.create_room(bob, "shed", is_open=True)
        assert "#shed" in await sidebar(alices, general.id)
        await chat.delete_room(bob, other)
        assert "#shed" not in await sidebar(alices, general.id)


async def test_added_and_removed_from_a_closed_room(app, general, alice, bob, alices):
    async with app.app_context():
        room = await chat.create_room(bob, "vault", is_open=False)
        await chat.add_member(bob, room, "alice")
        assert "#vault" in await sidebar(alices, general.id)
        await chat.remove_member(bob, room, alice)
        assert "#vault" not in await sidebar(alices, general.id)


async def test_a_direct_conversation_opened_to_me(app, general, alice, bob, alices):
    async with app.app_context():
        message = await chat.send_direct(bob, ["alice"], "hello")
        html = await sidebar(alices, general.id)
        assert f'href="/chat/{message.conversation_id}"' in html and unread_of(html, message.conversation_id) == 1


async def test_levels_mute_and_unmute(app, general, alice, bob, alices):
    async with app.app_context():
        await chat.post(bob, general, "news")
        assert unread_of(await sidebar(alices, general.id), general.id) == 1
        await levels.choose(alice, general.id, "nothing")
        assert f'id="conversation-{general.id}-unread"' not in await sidebar(alices, general.id)
        await levels.choose(alice, general.id, None)
        assert unread_of(await sidebar(alices, general.id), general.id) == 1


async def test_threads_followed_and_unfollowed(app, general, alice, bob, alices):
    async with app.app_context():
        parent = await chat.post(alice, general, "a question")
        thread = await threads.open_thread(bob, parent.id)
        await chat.post(bob, thread, "an answer")  # the parent's author follows its thread
        assert threads_unread(await sidebar(alices, general.id)) == 1
        await threads.follow(alice, thread.id, False)
        assert threads_unread(await sidebar(alices, general.id)) == 0
        await threads.follow(alice, thread.id, True)
        await chat.post(bob, thread, "another")
        assert threads_unread(await sidebar(alices, general.id)) > 0
        await chat.mark_read(alice, await Conversation.get(id=thread.id))
        assert threads_unread(await sidebar(alices, general.id)) == 0


async def test_people_renamed_made_and_removed(app, general, alice, bob, alices):
    async with app.app_context():
        await account_names.set_display_name(SYSTEM, bob, "Robert Tables")
        assert "Robert Tables" in await sidebar(alices, general.id)
        await make_user("carol")
        assert "/users/carol" in await sidebar(alices, general.id)
        await (await User.get(username="carol")).delete()
        assert "/users/carol" not in await sidebar(alices, general.id)


async def test_a_new_picture(app, general, alice, bob, alices, tmp_path):
    from PIL import Image

    from app.files import avatars

    Image.new("RGB", (80, 80), "teal").save(path := tmp_path / "face.png")
    async with app.app_context():
        await avatars.set_picture(bob, path)
        key = (await User.get(id=bob.id)).avatar
        assert key and key in await sidebar(alices, general.id)
        await avatars.remove_picture(await User.get(id=bob.id))
        assert key not in await sidebar(alices, general.id)


async def test_presence_is_read_on_every_page(app, general, bob, alices):
    from app.runtime import runtime

    badge = f'data-presence-user="{bob.id}">Offline'
    assert badge in await sidebar(alices, general.id)
    async with app.app_context():
        await runtime().presence.connect(bob.id)
    assert f'data-presence-user="{bob.id}">Online' in await sidebar(alices, general.id)


async def test_a_session_ended_is_never_served_a_cached_page(app, general, alice, alices):
    from app.accounts import service as accounts

    async with app.app_context():
        assert await accounts.end_sessions(await User.get(id=alice.id), "test") == 1
    page = await alices.get(f"/chat/{general.id}")
    assert page.status_code == 401  # signed out at once: the login page, not the cached sidebar
    assert 'id="sidebar"' not in await page.get_data(as_text=True)


async def test_another_worker_changes_what_this_one_has_cached(pg_database, tmp_path):
    """Two processes on one PostgreSQL site: this one has alice's sidebar cached; the other posts,
    renames someone, makes a room and a person; this one's next page shows it all."""
    async with pg_site(pg_database, tmp_path) as app:
        lift_posting_limit(app)
        await make_user("admin", admin=True)
        alice, bob = await make_user("alice"), await make_user("bob")
        await chat.welcome(alice)
        await chat.welcome(bob)
        general = await chat.general()
        alices = Client(app)
        await alices.login("alice")
        before = await sidebar(alices, general.id)
        assert await sidebar(alices, general.id) == before and unread_of(before, general.id) == 0
        in_child("tests.test_page_cache", pg_database, str(tmp_path / "child"))
        html = await sidebar(alices, general.id)
        assert unread_of(html, general.id) == 1 and mentions_of(html, general.id) == 1
        assert "Robert Tables" in html and "#elsewhere" in html and "/users/dave" in html


async def _other_worker(url: str, data_dir: str) -> dict:
    async with pg_site(url, data_dir) as app:
        lift_posting_limit(app)
        bob = await User.get(username="bob")
        await chat.post(bob, await chat.general(), "hi @alice")
        await account_names.set_display_name(SYSTEM, bob, "Robert Tables")
        await chat.create_room(bob, "elsewhere", is_open=True)
        await make_user("dave")
    return {}


if __name__ == "__main__":
    child_main(_other_worker)
