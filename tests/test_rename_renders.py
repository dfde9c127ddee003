"""A rename renders again every cached message that shows the renamed person's name, though none of
those messages changed: a reply's quote of their message, a thread's summary of its repliers and a
reaction chip's list of who reacted (the render cache's key carries the names' epoch, kept in the
database for every worker: app/models/names.py epoch, app/accounts/names.py announce)."""
from __future__ import annotations

import re

from app.accounts import names as renames
from app.admin import service as admin_service
from app.chat import reactions, threads
from app.chat import service as chat
from app.models import names
from tests.helpers.postgres import in_child


async def shown(client, conversation) -> dict[str, str]:
    """What the page shows of bob in the three places."""
    html = await (await client.get(f"/chat/{conversation.id}")).get_data(as_text=True)
    found = {
        "quote": re.search(r'class="reply-author"[^>]*>([^<]*)<', html),
        "summary": re.search(r'class="thread-count">[^<]*</span>.*?<span class="muted"> · ([^<]*)</span>\s*</a>', html,
                             re.S),
        "chip": re.search(r'class="reaction"[^>]*data-who="([^"]*)"', html),
    }
    return {place: match.group(1) for place, match in found.items() if match}


async def test_a_rename_shows_the_new_name_in_quotes_thread_summaries_and_reaction_chips(
        app, client, general, admin, alice, bob):
    async with app.app_context():
        original = await chat.post(bob, general, "the plan is on the wiki")
        await chat.post(alice, general, "thanks, reading it", reply_to=original.id)
        question = await chat.post(alice, general, "who takes the release?")
        await chat.post(bob, await threads.open_thread(bob, question.id), "I do")
        await reactions.react(bob, question.id, "👍")
    await client.login("alice")
    assert await shown(client, general) == {"quote": "bob", "summary": "bob", "chip": "bob"}  # now cached

    async with app.app_context():
        await admin_service.update_user(admin, bob, {"username": "robert", "email": bob.email, "is_admin": False})
    assert await shown(client, general) == {"quote": "robert", "summary": "robert", "chip": "robert"}

    async with app.app_context():
        await renames.set_display_name(bob, bob, "Robert Brown")
    after = await shown(client, general)
    assert after["quote"] == after["summary"] == "Robert Brown"
    assert after["chip"] == "robert"  # chips list usernames


async def test_the_names_epoch_changes_only_when_a_label_does(app, admin, alice, bob):
    async with app.app_context():
        first = await names.epoch()
        await renames.set_display_name(alice, alice, "")  # she has none: nothing changes
        assert await names.epoch() == first
        await renames.set_display_name(alice, alice, "Alice A")
        second = await names.epoch()
        assert second != first
        await renames.set_display_name(alice, alice, "Alice B")
        assert await names.epoch() not in (first, second)


async def test_a_rename_in_another_worker_renders_this_workers_cached_messages_again(
        app, settings, client, general, alice, bob):
    async with app.app_context():
        original = await chat.post(bob, general, "the plan is on the wiki")
        await chat.post(alice, general, "thanks, reading it", reply_to=original.id)
    await client.login("alice")
    assert (await shown(client, general))["quote"] == "bob"  # cached in this worker
    in_child("tests.helpers.rename_elsewhere", settings.database_url, str(settings.data_dir / "elsewhere"), "bob",
             "Bobby Tables")
    assert (await shown(client, general))["quote"] == "Bobby Tables"


async def test_deleting_an_account_renders_again_the_cached_messages_that_named_it(app, client, general, admin,
                                                                                   alice, bob):
    from app.accounts import service as accounts

    async with app.app_context():
        await renames.set_display_name(bob, bob, "Robert Brown")
        original = await chat.post(bob, general, "the plan is on the wiki")
        await chat.post(alice, general, "thanks, reading it", reply_to=original.id)
    await client.login("alice")
    assert (await shown(client, general))["quote"] == "Robert Brown"  # now cached
    async with app.app_context():
        await accounts.delete_account(admin, bob)
    assert (await shown(client, general))["quote"] == "bob"  # the name its messages keep, no display name
