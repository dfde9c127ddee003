"""Chat pages and their rules: who sees and does what, bad input, escaping, pagination, limits."""
from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from app.chat import service
from app.models import AuditEvent, Conversation, Membership, Message, User
from app.runtime import Runtime
from tests.helpers import PASSWORD
from tests.helpers.accounts import make_user
from tests.helpers.chat import lift_posting_limit
from tests.helpers.html import attributes, text_of


@pytest.fixture
async def secret(app, alice, general):
    """A closed room of alice's; bob is not in it."""
    async with app.app_context():
        return await service.create_room(alice, "secret", "plans", is_open=False)


async def post(client, conversation_id: int, body: str, **extra):
    return await client.post(f"/chat/{conversation_id}/messages", {"body": body, **extra}, htmx=True)


async def test_chat_opens_general_for_a_new_account_and_then_the_last_visited(client, general, alice):
    await client.login("alice")
    response = await client.get("/chat")
    assert response.headers["Location"] == f"/chat/{general.id}"
    page = await (await client.get(f"/chat/{general.id}")).get_data(as_text=True)
    assert f'id="conversation" class="chat-pane" data-conversation="{general.id}"' in page
    assert ">Message</label>" in page and f'id="conversation-{general.id}-messages"' in page


async def shown(client, conversation) -> None:
    """A page opened and shown, as a browser does it: the GET, then its script's read (a POST)."""
    assert (await client.get(f"/chat/{conversation.id}")).status_code == 200
    assert (await client.post(f"/chat/{conversation.id}/read", {})).status_code == 204


async def test_chat_returns_to_the_last_conversation_however_quickly_one_switches(client, general, alice, secret):
    await client.login("alice")
    for conversation in (general, secret, general, secret, general):  # all within a second
        await shown(client, conversation)
        assert (await client.get("/chat")).headers["Location"] == f"/chat/{conversation.id}"


async def test_reloading_a_conversation_writes_nothing_within_a_minute(client, general, alice, secret):
    await client.login("alice")
    await shown(client, secret)
    await shown(client, general)
    member = await Membership.get(user_id=alice.id, conversation_id=general.id)
    for _ in range(3):
        await shown(client, general)
    # The same visit stamp: a reload of where one already is costs no write.
    assert (await Membership.get(id=member.id)).last_visited_at == member.last_visited_at


async def test_accounts_made_before_chat_are_in_general_from_its_making(client, app, alice, bob):
    assert not await Membership.filter(user_id=alice.id).exists()
    await client.login("alice")
    response = await client.get("/chat")
    assert response.status_code == 303
    assert await Membership.filter(user_id=alice.id).count() == 1
    assert await Membership.filter(user_id=bob.id).count() == 1  # without visiting


async def test_opening_a_conversation_by_get_marks_nothing_read_and_stamps_no_visit(client, app, general, alice,
                                                                                    bob, secret):
    """A link from anywhere (another site's, too) reads nothing: the page reads by POST."""
    async with app.app_context():
        await service.post(bob, general, "unread until shown")
    await client.login("alice")
    await shown(client, secret)
    member = await Membership.get(user_id=alice.id, conversation_id=general.id)
    page = await (await client.get(f"/chat/{general.id}")).get_data(as_text=True)
    after = await Membership.get(id=member.id)
    assert (after.last_read_seq, after.last_visited_at) == (member.last_read_seq, member.last_visited_at)
    assert (await client.get("/chat")).headers["Location"] == f"/chat/{secret.id}"
    # Without a script, the page offers the read as a button: a navigation, answered by a redirect.
    assert "Mark as read</button>" in page
    response = await client.post(f"/chat/{general.id}/read", {"seq": "1"}, headers={"Sec-Fetch-Mode": "navigate"})
    assert response.status_code == 303 and response.headers["Location"] == f"/chat/{general.id}"
    assert (await Membership.get(id=member.id)).last_read_seq == 1
    assert (await client.get("/chat")).headers["Location"] == f"/chat/{general.id}"


async def test_visiting_chat_never_puts_anyone_back_in_general(client, app, general, alice, admin):
    """Removed from #general by nobody but the database: GET /chat does not write it back."""
    await Membership.filter(user_id=alice.id, conversation_id=general.id).delete()
    await client.login("alice")
    assert (await client.get("/chat")).status_code == 303
    assert not await Membership.filter(user_id=alice.id, conversation_id=general.id).exists()


async def test_a_member_posts_and_everyone_reads_it_escaped_with_links(client, sign_in, general):
    await client.login("alice")
    hostile = ('<script>alert(1)</script> <img src=x onerror=alert(1)> <a hx-get="/x">x</a> {{ 7*7 }} '
               "javascript:alert(1) https://example.com/a?b=1&c=2.\nline two")
    response = await post(client, general.id, hostile)
    assert response.status_code == 200
    html = await response.get_data(as_text=True)
    bobs = await (await (await sign_in("bob")).get(f"/chat/{general.id}")).get_data(as_text=True)
    for page in (html, bobs):
        assert "<script>" not in page.split("</head>")[-1] and "&lt;script&gt;" in page
        assert "<img src=x" not in page and ("hx-get", "/x") not in attributes(page) and "{{ 7*7 }}" in page
        link = '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer nofollow ugc">'
        assert link in page
        assert 'href="javascript' not in page
    assert "line two" in bobs


@pytest.mark.parametrize("body,error", [("", "Write something"), ("   \n  ", "Write something"),
                                        ("x" * 4001, "4,000 characters")])
async def test_bad_messages_get_a_clear_error_beside_the_composer_and_keep_the_text(client, general, body, error):
    await client.login("alice")
    response = await post(client, general.id, body)
    assert response.status_code == 422
    html = await response.get_data(as_text=True)
    assert error in html and html.lstrip().startswith('<form class="composer"')
    if body.strip():
        assert body in html  # the text stays
    assert await Message.filter(conversation_id=general.id).count() == 0


async def test_exactly_4000_characters_is_fine(client, general):
    await client.login("alice")
    assert (await post(client, general.id, "y" * 4000)).status_code == 200


async def test_a_retried_post_with_the_same_client_id_is_stored_once(client, general):
    await client.login("alice")
    for _ in range(3):
        assert (await post(client, general.id, "only once", client_id="abc-123")).status_code == 200
    assert await Message.filter(conversation_id=general.id).count() == 1


@pytest.mark.parametrize("client_id", ["<b>", "a" * 65, "a b"])
async def test_a_malformed_client_id_is_refused(client, general, client_id):
    await client.login("alice")
    assert (await post(client, general.id, "hi", client_id=client_id)).status_code == 422


async def test_a_forged_author_is_ignored(client, general, bob):
    await client.login("alice")
    await post(client, general.id, "mine", author=str(bob.id), author_id=str(bob.id), author_name="bob")
    message = await Message.get(conversation_id=general.id)
    assert (message.author_id, message.author_name) != (bob.id, "bob")


async def test_a_flooding_sender_gets_429_and_others_can_still_post(app, client, sign_in, general):
    Runtime.of(app).limiters.post_user.limit = 3
    await client.login("alice")
    for n in range(3):
        assert (await post(client, general.id, f"spam {n}")).status_code == 200
    refused = await post(client, general.id, "one more")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "one more" in await refused.get_data(as_text=True)  # the text stays
    assert (await post(await sign_in("bob"), general.id, "hello")).status_code == 200


# --- who sees what -------------------------------------------------------------------------------

async def test_nobody_outside_a_closed_room_sees_reads_or_posts_to_it(client, app, secret, alice, bob):
    async with app.app_context():
        message = await service.post(alice, secret, "secret plans")
    await client.login("bob")
    for path in (f"/chat/{secret.id}", f"/chat/{secret.id}/messages", f"/chat/{secret.id}/messages/{message.id}",
                 f"/chat/{secret.id}/members", f"/chat/messages/{message.id}", f"/chat/messages/{message.id}/edit",
                 f"/chat/messages/{message.id}/delete"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "secret" not in await response.get_data(as_text=True)
    for path in (f"/chat/{secret.id}/messages", f"/chat/{secret.id}/read", f"/chat/{secret.id}/join",
                 f"/chat/{secret.id}/leave", f"/chat/{secret.id}/members", f"/chat/messages/{message.id}",
                 f"/chat/messages/{message.id}/delete"):
        response = await client.post(path, {"body": "let me in", "username": "bob"})
        assert response.status_code == 404, path
    assert await Message.filter(conversation_id=secret.id).count() == 1
    sidebar = await (await client.get("/chat/sidebar")).get_data(as_text=True)
    assert "secret" not in sidebar


async def test_an_open_room_shows_a_join_button_to_those_not_in_it(client, app, alice, general):
    """A preview: its latest messages, read-only (anyone may join and read them), and Join; nothing
    on the page asks what only members may (no composer, no read position to post: no 404)."""
    async with app.app_context():
        lounge = await service.create_room(alice, "lounge", "coffee")
        await service.post(alice, lounge, "inside talk")
    await client.login("bob")
    response = await client.get(f"/chat/{lounge.id}")
    page = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Join #lounge" in page and "inside talk" in page
    assert "data-composer" not in page and "data-read-url" not in page
    assert (await client.get(f"/chat/{lounge.id}/messages")).status_code == 404
    assert (await client.post(f"/chat/{lounge.id}/join")).status_code == 303
    assert "inside talk" in await (await client.get(f"/chat/{lounge.id}")).get_data(as_text=True)
    assert (await client.post(f"/chat/{lounge.id}/leave")).status_code == 303
    assert not await Membership.filter(user_id=(await User.get(username="bob")).id, conversation_id=lounge.id).exists()


async def test_only_the_author_edits_and_the_author_or_an_admin_deletes(client, sign_in, app, general, alice, bob):
    async with app.app_context():
        message = await service.post(alice, general, "original")
    bobs = await sign_in("bob")
    assert (await bobs.get(f"/chat/messages/{message.id}/edit")).status_code == 403
    assert (await bobs.post(f"/chat/messages/{message.id}", {"body": "hacked"})).status_code == 403
    assert (await bobs.post(f"/chat/messages/{message.id}/delete")).status_code == 403
    assert (await Message.get(id=message.id)).body == "original"

    await client.login("alice")
    response = await client.post(f"/chat/messages/{message.id}", {"body": "changed"}, htmx=True)
    assert response.status_code == 200 and "changed" in await response.get_data(as_text=True)
    assert "(edited)" in await response.get_data(as_text=True)
    assert (await client.post(f"/chat/messages/{message.id}", {"body": ""}, htmx=True)).status_code == 422
    assert (await Message.get(id=message.id)).body == "changed"

    admins = await sign_in("admin")
    assert (await admins.post(f"/chat/messages/{message.id}", {"body": "admin edit"})).status_code == 403
    assert (await admins.post(f"/chat/messages/{message.id}/delete", htmx=True)).status_code == 200
    assert (await Message.get(id=message.id)).deleted_at is not None
    assert await AuditEvent.filter(action="message.deleted").exists()
    assert (await client.get(f"/chat/messages/{message.id}")).status_code == 404  # gone for everyone


async def test_another_conversations_message_id_is_not_found_there(client, app, general, secret, alice):
    async with app.app_context():
        hidden = await service.post(alice, secret, "closed room message")
    await client.login("bob")
    assert (await client.get(f"/chat/{general.id}/messages/{hidden.id}")).status_code == 404


async def test_a_removed_accounts_messages_stay_under_the_name_it_had(client, sign_in, app, general, bob):
    async with app.app_context():
        await service.post(bob, general, "bob was here")
    bobs = await sign_in("bob")
    assert (await bobs.post("/users/bob/delete")).status_code == 303
    await client.login("alice")
    page = await (await client.get(f"/chat/{general.id}")).get_data(as_text=True)
    assert "bob was here" in page and "(removed account)" in text_of(page)


async def test_a_removed_account_shows_even_where_its_message_was_rendered_before(client, sign_in, app, general, bob):
    async with app.app_context():
        await service.post(bob, general, "bob was here")
    await client.login("alice")
    assert "(removed account)" not in text_of(await (await client.get(f"/chat/{general.id}")).get_data(as_text=True))
    bobs = await sign_in("bob")
    await bobs.post("/users/bob/delete")
    assert "(removed account)" in text_of(await (await client.get(f"/chat/{general.id}")).get_data(as_text=True))


async def test_each_message_is_rendered_once_per_version_however_often_pages_show_it(
        client, app, general, alice, monkeypatch):
    import app.chat.events as chat_events

    rendered = []
    real = chat_events.render_template

    async def counting(name, **context):
        if name == "chat/_message.html":
            rendered.append(context["message"].id)
        return await real(name, **context)

    monkeypatch.setattr(chat_events, "render_template", counting)
    async with app.app_context():
        messages = [await service.post(alice, general, f"n{n}") for n in range(5)]
    await client.login("alice")
    first = await (await client.get(f"/chat/{general.id}")).get_data(as_text=True)
    rendered.clear()
    for _ in range(3):
        again = await (await client.get(f"/chat/{general.id}")).get_data(as_text=True)
    assert rendered == [] and again.count('class="message"') == first.count('class="message"') == 5
    async with app.app_context():
        await service.edit(alice, messages[2], "n2, edited")
    page = await (await client.get(f"/chat/{general.id}")).get_data(as_text=True)
    assert rendered == [messages[2].id] and "n2, edited" in page


# --- history ----------------------------------------------------------------------------------

@pytest.mark.parametrize("count,more", [(50, False), (51, True), (100, True)])
async def test_history_shows_the_newest_50_and_pages_back_by_number(client, app, general, alice, count, more):
    async with app.app_context():
        lift_posting_limit(app)
        for n in range(count):
            await service.post(alice, general, f"message number {n:03}")
    await client.login("bob")
    await client.post(f"/chat/{general.id}/read", {})  # all read: the page opens at the newest
    page = await (await client.get(f"/chat/{general.id}")).get_data(as_text=True)
    assert page.count('<article id="message-') == 50
    assert f"message number {count - 1:03}" in page and f"message number {count - 51:03}" not in page
    assert ("Older messages" in page) is more
    if more:
        before = page.split("messages?before=")[1].split('"')[0]
        older = await (await client.get(f"/chat/{general.id}/messages?before={before}", headers={"HX-Request": "true"})
                       ).get_data(as_text=True)
        assert older.count('<article id="message-') == min(50, count - 50)
        assert "message number 000" in older


async def test_a_permalink_opens_the_conversation_around_the_message_and_marks_it(client, app, general, alice):
    async with app.app_context():
        lift_posting_limit(app)
        ids = [(await service.post(alice, general, f"m{n}")).id for n in range(120)]
    await client.login("bob")
    page = await (await client.get(f"/chat/{general.id}/messages/{ids[10]}")).get_data(as_text=True)
    assert f'data-highlight="message-{ids[10]}"' in page and f'id="message-{ids[10]}"' in page


def marked(page: str, message_id: int) -> bool:
    """The page marks this message as the permalink's target: the marker just before it."""
    return re.search(rf'<div hidden data-highlight="message-{message_id}"></div>\s*<article id="message-{message_id}"',
                     page) is not None


async def test_a_permalink_into_an_open_room_shows_someone_not_in_it_the_message_in_context(
        client, app, general, alice):
    """It showed the room's latest messages instead: the preview did not read the permalink."""
    async with app.app_context():
        lift_posting_limit(app)
        lounge = await service.create_room(alice, "lounge", "coffee")
        ids = [(await service.post(alice, lounge, f"lounge talk {n:03}")).id for n in range(120)]
    await client.login("bob")
    response = await client.get(f"/chat/{lounge.id}/messages/{ids[10]}")
    page = await response.get_data(as_text=True)
    assert response.status_code == 200 and marked(page, ids[10]) and page.count("data-highlight") == 1
    assert "lounge talk 010" in page and "lounge talk 000" in page and "lounge talk 119" not in page
    assert "Join #lounge" in page and "data-composer" not in page  # still a read-only preview
    # The newer messages are a link away, not a page that loads them (those are for members: 404).
    assert f'href="/chat/{lounge.id}">Jump to latest</a>' in page and "data-newer" not in page
    assert "data-older" not in page and "data-latest-url" not in page
    latest = await (await client.get(f"/chat/{lounge.id}")).get_data(as_text=True)
    assert "lounge talk 119" in latest and "data-highlight" not in latest and "Jump to latest" not in latest


async def test_a_permalink_into_a_closed_room_is_not_found_by_someone_not_in_it(client, app, secret, alice):
    async with app.app_context():
        message = await service.post(alice, secret, "closed plans")
    await client.login("bob")
    response = await client.get(f"/chat/{secret.id}/messages/{message.id}")
    assert response.status_code == 404 and "closed plans" not in await response.get_data(as_text=True)


async def test_a_permalink_still_marks_the_message_for_a_member_of_an_open_room(client, app, general, alice):
    async with app.app_context():
        lounge = await service.create_room(alice, "lounge", "coffee")
        first = await service.post(alice, lounge, "the first word")
        await service.post(alice, lounge, "the last word")
    await client.login("alice")
    page = await (await client.get(f"/chat/{lounge.id}/messages/{first.id}")).get_data(as_text=True)
    assert marked(page, first.id) and "the last word" in page and "data-composer" in page


@pytest.mark.parametrize("member", ["alice", "bob"], ids=["member", "not in the room"])
async def test_a_permalink_to_no_message_of_the_room_says_so(client, app, general, alice, member):
    """An unknown id, a deleted message, another room's message, an id past any row: a 404 that
    says why, for members and previews alike; letters are not a message id at all (404)."""
    async with app.app_context():
        lounge = await service.create_room(alice, "lounge", "coffee")
        gone = await service.post(alice, lounge, "soon gone")
        await service.delete(alice, gone)
        elsewhere = await service.post(alice, general, "in general")
    await client.login(member)
    for message_id in (999999, gone.id, elsewhere.id, "9999999999999999999"):
        response = await client.get(f"/chat/{lounge.id}/messages/{message_id}")
        assert response.status_code == 404, message_id
        assert "That message does not exist, or was deleted." in await response.get_data(as_text=True)
    assert (await client.get(f"/chat/{lounge.id}/messages/abc")).status_code == 404


# --- rooms and directs ----------------------------------------------------------------------------

@pytest.mark.parametrize("name,error", [("", "Give the room a name"), ("a b", "no spaces"), ("x" * 41, "40 characters"),
                                        ("GENERAL", "already a room")])
async def test_room_names_are_checked_and_unique_case_insensitively(client, general, name, error):
    await client.login("alice")
    response = await client.post("/chat/rooms/new", {"name": name, "open": "open"})
    assert response.status_code == 422 and error in await response.get_data(as_text=True)


async def test_a_closed_room_is_managed_by_its_creator_and_admins(client, sign_in, app, secret, alice, bob):
    await client.login("alice")
    assert (await client.post(f"/chat/{secret.id}/members", {"username": "bob"})).status_code == 303
    bobs = await sign_in("bob")
    assert (await bobs.get(f"/chat/{secret.id}")).status_code == 200
    assert (await bobs.post(f"/chat/{secret.id}/members", {"username": "admin"})).status_code == 403
    assert (await bobs.post(f"/chat/{secret.id}/members/{alice.id}/delete")).status_code == 403
    admins = await sign_in("admin")
    assert (await admins.post(f"/chat/{secret.id}/members/{bob.id}/delete")).status_code == 404  # not in it
    await client.post(f"/chat/{secret.id}/members/{bob.id}/delete")
    assert (await bobs.get(f"/chat/{secret.id}")).status_code == 404
    assert await AuditEvent.filter(action="room.member_removed").exists()


async def test_a_direct_conversation_is_made_by_its_first_message_and_is_one_per_set_of_people(client, general, bob):
    await client.login("alice")
    response = await client.get("/chat/with/bob")
    assert response.headers["Location"] == "/chat/new?to=bob"
    assert not await Conversation.filter(kind="direct").exists()  # nothing made yet
    response = await client.post("/chat/new", {"usernames": "bob", "body": "hi bob"})
    conversation_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert (await client.get("/chat/with/BOB")).headers["Location"] == f"/chat/{conversation_id}"
    again = await client.post("/chat/new", {"usernames": "bob, alice", "body": "again"})
    assert again.headers["Location"] == f"/chat/{conversation_id}"
    assert await Message.filter(conversation_id=conversation_id).count() == 2


@pytest.mark.parametrize("names,error", [("", "Choose who"), ("nobody", "no user called nobody"),
                                         (" ".join(f"u{n}" for n in range(11)), "no user called")])
async def test_bad_recipients_get_a_clear_error_and_nothing_is_made(client, general, names, error):
    await client.login("alice")
    response = await client.post("/chat/new", {"usernames": names, "body": "hello"})
    assert response.status_code == 422 and error in await response.get_data(as_text=True)
    assert not await Conversation.filter(kind="direct").exists()


async def test_a_group_is_at_most_ten_people(client, general):
    for n in range(11):
        await User.create_account(f"member{n}", f"m{n}@example.com", PASSWORD)
    await client.login("alice")
    response = await client.post("/chat/new", {"usernames": " ".join(f"member{n}" for n in range(10)), "body": "hi"})
    assert response.status_code == 422 and "at most 10" in await response.get_data(as_text=True)


async def test_a_profile_offers_message_to_others_and_says_what_happens_to_messages(client, general, bob):
    await client.login("alice")
    bobs = await (await client.get("/users/bob")).get_data(as_text=True)
    assert 'href="/chat/with/bob">Message</a>' in bobs
    mine = await (await client.get("/users/alice")).get_data(as_text=True)
    assert "/chat/with/alice" not in mine
    assert "(removed account)" in text_of(mine)  # said on the delete-account part


HOSTILE = ('<script>alert(1)</script> <img src=x onerror=alert(1)> <b hx-get="/x">x</b> {{ 7*7 }} '
           '<a href="javascript:alert(1)">j</a>')


def assert_inert(html: str) -> None:
    body = html.split("</head>")[-1]
    assert "<script>" not in body and "&lt;script&gt;" in body
    carried = attributes(body)  # what elements carry: the text may say anything, escaped
    assert "<img src=x" not in body and ("hx-get", "/x") not in carried
    assert not any(name == "href" and value.lower().startswith("javascript") for name, value in carried)
    assert "{{ 7*7 }}" in body


async def test_hostile_markup_is_inert_in_history_pages_permalinks_and_single_messages(client, app, general, alice):
    async with app.app_context():
        lift_posting_limit(app)
        bad = await service.post(alice, general, HOSTILE)
        for n in range(60):
            await service.post(alice, general, f"filler {n}")
    await client.login("alice")
    older = await client.get(f"/chat/{general.id}/messages?before={bad.seq + 1}", headers={"HX-Request": "true"})
    assert_inert(await older.get_data(as_text=True))
    assert_inert(await (await client.get(f"/chat/{general.id}/messages/{bad.id}")).get_data(as_text=True))
    one = await client.get(f"/chat/messages/{bad.id}", headers={"HX-Request": "true"})
    assert_inert(await one.get_data(as_text=True))
    edit = await client.get(f"/chat/messages/{bad.id}/edit", headers={"HX-Request": "true"})
    assert_inert(await edit.get_data(as_text=True))


# --- sidebar, reading, plain browsers ------------------------------------------------------------------

async def test_the_sidebar_lists_rooms_then_directs_with_unread_counts_and_people(client, sign_in, app, general,
                                                                                  alice, bob):
    async with app.app_context():
        lift_posting_limit(app)
        lounge = await service.create_room(alice, "lounge")
        direct = (await service.send_direct(bob, ["alice"], "psst")).conversation_id
        await service.post(alice, general, "my own does not count")
        for n in range(service.UNREAD_CAP + 1):
            await service.post(bob, general, f"{n}")
    await client.login("alice")
    sidebar = await (await client.get("/chat/sidebar", headers={"HX-Request": "true"})).get_data(as_text=True)
    assert sidebar.lstrip().startswith('<nav id="sidebar"')
    assert sidebar.index("#general") < sidebar.index("#lounge") < sidebar.index(f'href="/chat/{direct}"')
    assert f'id="conversation-{general.id}-unread" class="unread" data-count="100"' in sidebar
    assert ">99+</span>" in sidebar
    assert f'id="conversation-{direct}-unread" class="unread" data-count="1"' in sidebar
    assert f'id="conversation-{lounge.id}-unread" class="unread" data-count="0"' in sidebar
    assert 'href="/users/bob"' in sidebar and "presence" in sidebar
    page = await (await client.get(f"/chat/{direct}")).get_data(as_text=True)
    assert f'<a href="/chat/{direct}" aria-current="page">' in page
    assert '">‹ Conversations<span' in page  # the way back on a phone (with its sign of news)
    assert (await client.get("/chat/sidebar")).status_code == 200  # a page of its own too


async def test_reading_marks_up_to_a_number_and_never_goes_back(client, app, general, alice, bob):
    async with app.app_context():
        for n in range(5):
            await service.post(bob, general, f"{n}")
    await client.login("alice")
    member = await Membership.get(user_id=alice.id, conversation_id=general.id)
    assert member.last_read_seq == 0
    assert (await client.post(f"/chat/{general.id}/read", {"seq": "3"})).status_code == 204
    assert (await client.post(f"/chat/{general.id}/read", {"seq": "1"})).status_code == 204
    assert (await Membership.get(id=member.id)).last_read_seq == 3
    for bad in ("-1", "abc", "1.5", "9" * 30):
        assert (await client.post(f"/chat/{general.id}/read", {"seq": bad})).status_code == 422, bad
    assert (await Membership.get(id=member.id)).last_read_seq == 3
    await client.get(f"/chat/{general.id}")  # opening it reads nothing: the page reads by POST
    assert (await Membership.get(id=member.id)).last_read_seq == 3
    assert (await client.post(f"/chat/{general.id}/read", {})).status_code == 204  # everything
    assert (await Membership.get(id=member.id)).last_read_seq == 5


async def test_the_page_carries_the_number_read_before_its_messages(client, app, general, alice):
    async with app.app_context():
        for n in range(3):
            await service.post(alice, general, f"{n}")
    await client.login("bob")
    page = await (await client.get(f"/chat/{general.id}")).get_data(as_text=True)
    assert f'data-conversation="{general.id}" data-seq="3"' in page


async def test_plain_browsers_post_edit_and_delete_with_redirects(client, general):
    await client.login("alice")
    response = await client.post(f"/chat/{general.id}/messages", {"body": "no js"})
    assert response.status_code == 303 and response.headers["Location"] == f"/chat/{general.id}"
    message = await Message.get(conversation_id=general.id)
    response = await client.get(f"/chat/messages/{message.id}")
    assert response.headers["Location"] == f"/chat/{general.id}/messages/{message.id}"
    assert "Edit your message" in await (await client.get(f"/chat/messages/{message.id}/edit")).get_data(as_text=True)
    response = await client.post(f"/chat/messages/{message.id}", {"body": "still no js"})
    assert response.status_code == 303 and (await Message.get(id=message.id)).body == "still no js"
    confirm = await (await client.get(f"/chat/messages/{message.id}/delete")).get_data(as_text=True)
    assert "Delete this message?" in confirm and "still no js" in confirm
    response = await client.post(f"/chat/messages/{message.id}/delete")
    assert response.status_code == 303 and (await Message.get(id=message.id)).deleted_at is not None
    too_long = await client.post(f"/chat/{general.id}/messages", {"body": "z" * 4001})
    assert too_long.status_code == 422 and "z" * 4001 in await too_long.get_data(as_text=True)


async def test_an_htmx_post_answers_only_the_message_and_delete_answers_nothing(client, general):
    await client.login("alice")
    response = await post(client, general.id, "hello there", client_id="cid-1")
    html = await response.get_data(as_text=True)
    message = await Message.get(conversation_id=general.id)
    # Only the stored message, for its "Sending…" stand-in: never a composer, which would replace
    # the box the person is typing in (static/js/composer.js).
    assert html.lstrip().startswith(f'<article id="message-{message.id}"') and "hello there" in html
    assert "<textarea" not in html and "hx-swap-oob" not in html
    response = await client.post(f"/chat/messages/{message.id}/delete", htmx=True)
    assert response.status_code == 200 and (await response.get_data(as_text=True)) == ""


@pytest.mark.parametrize("path", ["/chat/999999", "/chat/999999/messages", "/chat/messages/999999",
                                  "/chat/messages/999999/edit", "/chat/99999999999999999999999"])
async def test_unknown_ids_are_not_found(client, general, path):
    await client.login("alice")
    assert (await client.get(path)).status_code == 404


async def test_bad_before_cursors_are_ignored_not_a_crash(client, general):
    await client.login("alice")
    for before in ("abc", "-1", "9" * 30, "%D9%A3"):
        response = await client.get(f"/chat/{general.id}/messages?before={before}", headers={"HX-Request": "true"})
        assert response.status_code == 200, before  # an unreadable cursor is ignored: the newest page


async def test_the_new_message_picker_takes_typed_names_and_ticked_people(client, general, alice, bob):
    await make_user("carol")
    await client.login("alice")
    page = await (await client.get("/chat/new?to=bob")).get_data(as_text=True)
    assert 'value="bob"' in page and 'name="people" value="carol"' in page
    assert 'name="people" value="alice"' not in page  # not oneself
    response = await client.raw.post("/chat/new", form=MultiDict([
        ("csrf_token", await client.token()), ("usernames", "bob"), ("people", "carol"), ("people", "bob"),
        ("body", "hi both")]))
    conversation_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert await Membership.filter(conversation_id=conversation_id).count() == 3
    refused = await client.raw.post("/chat/new", form=MultiDict([
        ("csrf_token", await client.token()), ("people", "carol"), ("body", "")]))
    assert refused.status_code == 422 and 'value="carol" checked' in await refused.get_data(as_text=True)


async def test_general_and_direct_conversations_cannot_be_left(client, general, bob):
    await client.login("alice")
    page = await (await client.get(f"/chat/{general.id}")).get_data(as_text=True)
    assert f'action="/chat/{general.id}/leave"' not in page
    assert (await client.post(f"/chat/{general.id}/leave")).status_code == 403
    direct = await client.post("/chat/new", {"usernames": "bob", "body": "hi"})
    direct_id = int(direct.headers["Location"].rsplit("/", 1)[1])
    assert (await client.post(f"/chat/{direct_id}/leave")).status_code == 403
    members = await (await client.get(f"/chat/{direct_id}/members")).get_data(as_text=True)
    assert "Members of this conversation" in members and "#None" not in members
    assert await Membership.filter(conversation_id=general.id, user_id=(await User.get(username="alice")).id).exists()


async def test_a_plain_browser_following_older_messages_gets_a_whole_page(client, app, general, alice):
    async with app.app_context():
        lift_posting_limit(app)
        for n in range(60):
            await service.post(alice, general, f"plain {n:02}")
    await client.login("bob")
    response = await client.get(f"/chat/{general.id}/messages?before=11")
    page = await response.get_data(as_text=True)
    assert response.status_code == 200 and "<!doctype html>" in page and 'id="sidebar"' in page
    assert "plain 00" in page and "plain 09" in page and "plain 10" not in page
