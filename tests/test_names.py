"""Names (issue 18): display names, messages that show their author's name as it is now (live, and
to a page that reconnects), old usernames kept from newcomers until an admin frees them, and
conversations named so that two never look alike."""
from __future__ import annotations

import json

import pytest

from app.accounts import names as account_names
from app.accounts import rules
from app.accounts import service as accounts
from app.admin import audit_log
from app.admin import service as admin_service
from app.chat import events as chat_events
from app.chat import service as chat
from app.domain import Invalid, NotAllowed, NotFound
from app.models import AuditEvent, Message, ReservedName, User, names
from app.models.actor import SYSTEM
from app.runtime import Runtime
from tests.helpers import PASSWORD
from tests.helpers.accounts import make_user
from tests.helpers.api import act, api_login, json_socket, pushed
from tests.helpers.live import receive_until


def edit(person: User, **change) -> dict:
    return {"username": person.username, "email": person.email, "password": "", "confirm_password": "",
            "is_admin": person.is_admin, **change}


async def rename(actor, person: User, username: str) -> User:
    return await admin_service.update_user(actor, person, edit(person, username=username))


# --- display names: the rules ---------------------------------------------------------------------

@pytest.mark.parametrize("typed, kept", [
    ("Ada Lovelace", "Ada Lovelace"),
    ("  Ada   Lovelace ", "Ada Lovelace"),           # spaces collapse
    ("Ａｄａ", "Ada"),                                 # full-width folds (NFKC)
    ("", ""),                                         # none: the username is shown
    ("Мария Иванова", "Мария Иванова"),               # any one alphabet per word
    ("José O'Brien-Smith", "José O'Brien-Smith"),
])
async def test_a_display_name_is_kept_tidied(app, alice, typed, kept):
    async with app.app_context():
        await account_names.set_display_name(alice, alice, typed)
        assert (await User.get(id=alice.id)).display_name == kept


@pytest.mark.parametrize("typed, words", [
    ("x" * 65, "64 characters"),
    ("Ada\u202eecalevol", "control or invisible"),    # a bidi override reorders what follows
    ("Ada\u200bLovelace", "control or invisible"),     # zero-width space
    ("Ada\x07", "control or invisible"),
    ("Ada\x00", "NUL"),
    ("Ada\ud800", "surrogate"),
    ("\u0410da Lovelace", "one alphabet"),             # a Cyrillic А in a Latin word
])
async def test_a_display_name_that_could_mislead_is_refused(app, alice, typed, words):
    async with app.app_context():
        with pytest.raises(Invalid) as refused:
            await account_names.set_display_name(alice, alice, typed)
        assert words in refused.value.errors["display_name"]
        assert (await User.get(id=alice.id)).display_name == ""


async def test_only_the_person_and_admins_set_a_display_name(app, admin, alice, bob):
    async with app.app_context():
        with pytest.raises(NotAllowed):
            await account_names.set_display_name(bob, alice, "Not Alice")
        await account_names.set_display_name(admin, alice, "Alice Liddell")
        entry = await AuditEvent.filter(action="user.edited").order_by("-id").first()
        assert entry.params == {"changes": [["display_name", "", "Alice Liddell"]]}
        assert audit_log.sentence(entry) == "admin edited alice: display name: (none) → Alice Liddell."


async def test_registration_takes_an_optional_display_name(app, admin):
    async with app.app_context():
        ada = await accounts.register("ada", "ada@example.com", PASSWORD, PASSWORD, display_name=" Ada  Lovelace ")
        assert ada.display_name == "Ada Lovelace" and ada.shown_name == "Ada Lovelace"
        with pytest.raises(Invalid) as refused:
            await accounts.register("eve", "eve@example.com", PASSWORD, PASSWORD, display_name="E\u202eve")
        assert "display_name" in refused.value.errors and not await User.exists(username="eve")


# --- labels: the @username where two could be confused ----------------------------------------------

async def test_the_username_shows_beside_a_display_name_only_where_two_could_be_confused(app, admin, alice, bob):
    async with app.app_context():
        carol = await make_user("carol")
        await account_names.set_display_name(alice, alice, "Alice Liddell")
        assert (await names.labels([alice.id]))[alice.id].full == "Alice Liddell"
        await account_names.set_display_name(bob, bob, "alice liddell")  # the same name, another case
        found = await names.labels([alice.id, bob.id, carol.id])
        assert found[alice.id].full == "Alice Liddell (@alice)" and found[bob.id].full == "alice liddell (@bob)"
        assert found[carol.id].full == "carol" and not found[carol.id].handle
        sam = await make_user("sam")
        await account_names.set_display_name(sam, sam, "Sam")
        await account_names.set_display_name(carol, carol, "sarn")  # r + n reads as the m of sam
        found = await names.labels([carol.id, sam.id])
        assert found[carol.id].full == "sarn (@carol)" and found[sam.id].full == "Sam (@sam)"
        await account_names.set_display_name(carol, carol, "BOB")  # bob's username, in capitals
        assert (await names.labels([carol.id]))[carol.id].full == "BOB (@carol)"
        await account_names.set_display_name(bob, bob, "Bob")  # his own username: nobody else's
        assert (await names.labels([bob.id]))[bob.id].full == "Bob (@bob)"  # (carol's "BOB" looks like it)
        await account_names.set_display_name(carol, carol, "")
        found = await names.labels([alice.id, bob.id])
        assert found[alice.id].full == "Alice Liddell" and found[bob.id].full == "Bob"


# --- messages show their author's name as it is now -------------------------------------------------

async def test_a_renamed_authors_old_messages_show_the_new_name_and_no_stale_render(app, admin, alice, general):
    async with app.app_context():
        message = await chat.post(alice, general, "hello from before")
        before = str((await chat_events.message_fragments([message]))[0])
        assert ">alice</span>" in before
        await rename(admin, alice, "alicia")
        rows, _ = await chat.history_rows(general)
        after = str((await chat_events.message_fragments(rows))[-1])
        assert ">alicia</span>" in after and ">alice</span>" not in after
        await account_names.set_display_name(admin, await User.get(id=alice.id), "Alicia Keys")
        rows, _ = await chat.history_rows(general)
        assert ">Alicia Keys</span>" in str((await chat_events.message_fragments(rows))[-1])
        # What is replayed to a page catching up, and what programs read, say so too.
        event = await chat_events.message_event(await Message.get(id=message.id), "message.created")
        assert ">Alicia Keys</span>" in event.html and event.data["author"] == "alicia"
        assert event.data["author_display_name"] == "Alicia Keys"
        # The name it was posted under stays stored, for when the account is gone.
        assert (await Message.get(id=message.id)).author_name == "alice"


async def test_a_removed_accounts_messages_keep_its_last_name(app, admin, alice, general):
    async with app.app_context():
        message = await chat.post(alice, general, "bye")
        await rename(admin, alice, "alicia")
        await accounts.delete_account(admin, await User.get(id=alice.id))
        stored = await Message.get(id=message.id)
        assert stored.author_id is None and stored.author_name == "alicia"
        html = str((await chat_events.message_fragments([stored]))[0])
        assert ">alicia</span>" in html and "(removed account)" in html


async def test_a_rename_reaches_every_page_and_program_as_one_event_per_person(app, admin, alice, bob):
    async with app.app_context():
        await account_names.set_display_name(bob, bob, "Ally")
        async with Runtime.of(app).broker.subscribe(["presence"]) as heard:
            await account_names.set_display_name(alice, alice, "Ally")  # bob's "Ally" now needs @bob too
            events = []
            while not heard.queue.empty():
                events.append(heard.queue.get_nowait())
        changed = [e for e in events if e.kind == "user.changed"]
        rows = [row for e in changed for row in json.loads(e.html.split("data-names='")[1].split("'")[0])]
        assert sorted(rows) == sorted([[alice.id, "Ally", "alice", True], [bob.id, "Ally", "bob", True]])
        assert {u["id"]: u["display_name"] for e in changed for u in e.data["users"]} == {alice.id: "Ally",
                                                                                          bob.id: "Ally"}
        assert "people" in [e.kind for e in events]  # lists (sidebar, team page) fetch themselves again


async def test_a_page_that_was_away_during_a_rename_learns_it_when_it_says_hello(app, admin, alice, sign_in, general):
    bobs = await make_browser(sign_in, "bob")
    async with app.app_context():
        await rename(admin, alice, "alicia")
    async with bobs.raw.websocket("/live", headers={"Origin": "http://localhost"}) as socket:
        await socket.send(json.dumps({"type": "hello", "presence": [], "names": [alice.id, 999999, "x", True]}))
        snapshot = await receive_until(socket, 'id="live-names" data-snapshot')
    assert f'data-names=\'[[{alice.id}, "alicia", "alicia", false]]\'' in snapshot


async def make_browser(sign_in, name):
    return await sign_in(name)


async def test_my_own_header_shows_my_name(app, alice, sign_in, general):
    alices = await sign_in("alice")
    async with app.app_context():
        await account_names.set_display_name(alice, alice, "Alice Liddell")
    page = await (await alices.get(f"/chat/{general.id}")).get_data(as_text=True)
    assert f'<strong data-name-of="{alice.id}">Alice Liddell</strong>' in page
    assert 'data-me-name="Alice Liddell"' in page


async def test_lists_show_display_names(app, admin, alice, bob, sign_in, general):
    async with app.app_context():
        await account_names.set_display_name(alice, alice, "Alice Liddell")
        await account_names.set_display_name(bob, bob, "Alice Liddell")
    bobs = await sign_in("bob")
    for path in ("/", f"/chat/{general.id}", f"/chat/{general.id}/members"):
        page = await (await bobs.get(path)).get_data(as_text=True)
        assert f'<span data-name-of="{alice.id}">Alice Liddell</span>' in page, path
        assert f'data-handle-of="{alice.id}">@alice</span>' in page, path  # shown: two are alike
    as_admin = await sign_in("admin")
    page = await (await as_admin.get("/admin/users")).get_data(as_text=True)
    assert "Alice Liddell" in page


# --- old usernames stay reserved -----------------------------------------------------------------------

async def test_an_old_username_is_kept_from_newcomers_at_every_door(app, admin, alice, bob, client):
    async with app.app_context():
        await rename(admin, alice, "alicia")
        for taken in ("alice", "ALICE", "ａｌｉｃｅ", "аlice"):  # the same, another case, full-width, Cyrillic а
            with pytest.raises(Invalid) as refused:
                await accounts.register(taken, "new@example.com", PASSWORD, PASSWORD)
            assert refused.value.errors["username"] in {rules.RESERVED, "Use letters from one alphabet only."}
        with pytest.raises(Invalid) as refused:
            await accounts.register("alice", "new@example.com", PASSWORD, PASSWORD)
        assert refused.value.errors["username"] == rules.RESERVED
        with pytest.raises(Invalid) as refused:
            await admin_service.create_user(SYSTEM, {"username": "alice", "email": "n@example.com",
                                                     "password": PASSWORD, "confirm_password": PASSWORD})
        assert refused.value.errors["username"] == rules.RESERVED
        with pytest.raises(Invalid) as refused:
            await rename(admin, bob, "alice")
        assert refused.value.errors["username"] == rules.RESERVED
        # Its owner may take it back; then the name they leave is kept instead.
        alicia = await User.get(id=alice.id)
        await rename(admin, alicia, "alice")
        assert await ReservedName.filter(name_key="alicia").exists()
        assert not await ReservedName.filter(name_key="alice").exists()
    page = await client.post("/register", {"username": "alicia", "email": "n@example.com", "password": PASSWORD,
                                           "confirm_password": PASSWORD})
    assert page.status_code == 422 and "kept, so that nobody can pass for them" in await page.get_data(as_text=True)


async def test_a_deleted_accounts_username_is_kept_until_an_admin_frees_it(app, admin, alice, bob):
    async with app.app_context():
        await accounts.delete_account(admin, alice)
        kept = await ReservedName.get(name_key="alice")
        assert kept.reason == "deleted" and kept.user_id is None
        with pytest.raises(Invalid):
            await accounts.register("alice", "new@example.com", PASSWORD, PASSWORD)
        with pytest.raises(NotAllowed):
            await admin_service.free_name(bob, kept.id)
        assert await admin_service.free_name(admin, kept.id) == "alice"
        entry = await AuditEvent.get(action="name.freed")
        assert audit_log.sentence(entry) == ("admin freed the username “alice”, kept since its account was "
                                             "deleted: anyone may take it now.")
        with pytest.raises(NotFound):
            await admin_service.free_name(admin, kept.id)
        assert (await accounts.register("alice", "new@example.com", PASSWORD, PASSWORD)).username == "alice"


async def test_the_admin_page_lists_reserved_names_and_frees_them(app, admin, alice, sign_in):
    async with app.app_context():
        await rename(admin, alice, "alicia")
        kept = await ReservedName.get(name_key="alice")
    as_admin = await sign_in("admin")
    page = await (await as_admin.get("/admin/users")).get_data(as_text=True)
    assert 'id="reserved-names"' in page and f"/admin/reserved-names/{kept.id}/free" in page
    response = await as_admin.post(f"/admin/reserved-names/{kept.id}/free")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/users#reserved-names")
    async with app.app_context():
        assert not await ReservedName.exists()
    assert (await as_admin.post(f"/admin/reserved-names/{kept.id}/free")).status_code == 404
    alicias = await sign_in("alicia")
    assert (await alicias.post(f"/admin/reserved-names/{kept.id}/free")).status_code == 403


# --- the account page and the admin row ---------------------------------------------------------------

async def test_the_display_name_page_saves_refuses_and_keeps_what_was_typed(app, alice, sign_in, client):
    assert (await client.get("/account/name")).status_code in (302, 401)
    alices = await sign_in("alice")
    page = await alices.get("/account/name")
    assert page.status_code == 200 and 'name="display_name"' in await page.get_data(as_text=True)
    bad = await alices.post("/account/name", {"display_name": "A\u202eB"}, htmx=True)
    body = await bad.get_data(as_text=True)
    assert bad.status_code == 422 and "control or invisible" in body and 'id="display-name-form"' in body
    good = await alices.post("/account/name", {"display_name": "Alice Liddell"}, htmx=True)
    assert good.status_code == 200 and "you are shown as Alice Liddell" in await good.get_data(as_text=True)
    plain = await alices.post("/account/name", {"display_name": "Alice L."})
    assert plain.status_code == 303 and plain.headers["Location"].endswith("/users/alice")
    async with app.app_context():
        assert (await User.get(id=alice.id)).display_name == "Alice L."


async def test_an_admin_sets_a_display_name_in_the_inline_row(app, admin, alice, sign_in):
    as_admin = await sign_in("admin")
    form = await (await as_admin.get(f"/admin/users/{alice.id}/edit", headers={"HX-Request": "true"})).get_data(
        as_text=True)
    assert 'name="display_name"' in form
    values = {"username": "alice", "email": "alice@example.com", "display_name": "Alice Liddell"}
    saved = await as_admin.post(f"/admin/users/{alice.id}", values, htmx=True)
    assert saved.status_code == 200 and "Alice Liddell" in await saved.get_data(as_text=True)
    bad = await as_admin.post(f"/admin/users/{alice.id}", {**values, "display_name": "x" * 65}, htmx=True)
    assert bad.status_code == 422 and "64 characters" in await bad.get_data(as_text=True)
    async with app.app_context():
        assert (await User.get(id=alice.id)).display_name == "Alice Liddell"
        # A door without the field (the command line's update) keeps it.
        await admin_service.update_user(SYSTEM, await User.get(id=alice.id),
                                        {"username": "alice", "email": "alice@example.com"})
        assert (await User.get(id=alice.id)).display_name == "Alice Liddell"


async def test_the_api_sets_and_shows_display_names_and_programs_hear_renames(app, alice, bob, general):
    alices, bobs = await api_login(app, "alice"), await api_login(app, "bob")
    async with json_socket(app) as socket:
        await act(socket, "login", {"username": "bob", "password": PASSWORD})
        status, body, _ = await alices.patch("/api/v1/me", {"display_name": "Alice Liddell"})
        assert status == 200 and body["data"]["display_name"] == "Alice Liddell"
        heard = await pushed(socket, "user.changed")
        assert heard["data"]["users"] == [{"id": alice.id, "username": "alice", "display_name": "Alice Liddell"}]
        answer = await act(socket, "display_name", {"display_name": "Bobby"})
        assert answer["data"]["display_name"] == "Bobby"
        refused = await act(socket, "display_name", {"display_name": "B\u202eob"})
        assert "display_name" in refused["fields"]
    status, body, _ = await alices.patch("/api/v1/me", {"display_name": "x" * 65})
    assert status == 422 and "display_name" in body["error"]["fields"]
    status, body, _ = await bobs.get("/api/v1/users/alice")
    assert body["data"]["display_name"] == "Alice Liddell"
    await alices.post(f"/api/v1/conversations/{general.id}/messages", {"text": "hi"})
    status, body, _ = await bobs.get(f"/api/v1/conversations/{general.id}/messages")
    assert body["data"]["messages"][0]["author"] == "alice"
    assert body["data"]["messages"][0]["author_display_name"] == "Alice Liddell"


async def test_the_messenger_socket_hears_a_rename(app, alice, bob, general):
    from app.api.messenger_socket import generic_frame
    from app.realtime.events import names as names_event

    async with app.app_context():
        event = await names_event((await names.labels([alice.id])).values())
    frame = json.loads(generic_frame(event))
    assert frame == {"Message": "user.changed", "Data": {"users": [{"id": alice.id, "username": "alice",
                                                                     "display_name": ""}]}}


# --- conversations are named so that two never look alike -------------------------------------------

async def test_a_group_whose_member_was_deleted_is_not_a_second_ada(app, admin, alice, bob, sign_in, general):
    async with app.app_context():
        ada = await make_user("ada")
        await chat.open_direct(bob, ["ada"])
        await chat.open_direct(bob, ["ada", "alice"])
        await accounts.delete_account(admin, alice)
    bobs = await sign_in("bob")
    sidebar = await (await bobs.get("/chat/sidebar", headers={"HX-Request": "true"})).get_data(as_text=True)
    assert ">ada</a>" in sidebar and ">ada, a removed account</a>" in sidebar
    async with app.app_context():
        await account_names.set_display_name(ada, ada, "bob")  # looks like bob's own username
    sidebar = await (await bobs.get("/chat/sidebar", headers={"HX-Request": "true"})).get_data(as_text=True)
    assert ">bob (@ada)</a>" in sidebar and ">bob (@ada), a removed account</a>" in sidebar


async def test_two_conversations_that_would_still_read_alike_say_when_they_began(app, admin, alice, bob, sign_in):
    async with app.app_context():
        await make_user("ada")
        await make_user("cy")
        await chat.open_direct(bob, ["ada", "alice"])
        await chat.open_direct(bob, ["ada", "cy"])
        await accounts.delete_account(admin, alice)
        await accounts.delete_account(admin, await User.get(username="cy"))
    bobs = await sign_in("bob")
    sidebar = await (await bobs.get("/chat/sidebar", headers={"HX-Request": "true"})).get_data(as_text=True)
    assert sidebar.count(">ada, a removed account (started ") == 2


async def test_typing_says_the_shown_name_to_pages_and_the_username_to_programs(app, alice, general):
    from app.chat.live import rooms

    async with app.app_context():
        await account_names.set_display_name(alice, alice, "Alice Liddell")
        event = await rooms.typing(f"conversation:{general.id}", await User.get(id=alice.id), "start")
    assert 'data-name="Alice Liddell"' in event.html and event.data["user"] == "alice"


async def test_the_register_page_keeps_a_refused_display_name_and_says_why(app, admin, client):
    form = {"username": "eve", "email": "eve@example.com", "password": PASSWORD, "confirm_password": PASSWORD}
    page = await client.get("/register")
    assert 'name="display_name"' in await page.get_data(as_text=True)
    refused = await client.post("/register", {**form, "display_name": "Eve\u200bLyn"})
    body = await refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="display_name-error"' in body and "invisible" in body
    async with app.app_context():
        assert not await User.exists(username="eve")
    made = await client.post("/register", {**form, "display_name": "Eve Lyn"})
    assert made.status_code == 303
    async with app.app_context():
        assert (await User.get(username="eve")).display_name == "Eve Lyn"


async def test_an_admin_adds_someone_with_a_display_name(app, admin, sign_in):
    as_admin = await sign_in("admin")
    values = {"username": "gil", "email": "gil@example.com", "password": PASSWORD, "confirm_password": PASSWORD,
              "display_name": "Gil Scott"}
    bad = await as_admin.post("/admin/users", {**values, "display_name": "G\u202eil"}, htmx=True)
    assert bad.status_code == 422 and "control or invisible" in await bad.get_data(as_text=True)
    made = await as_admin.post("/admin/users", values, htmx=True)
    assert made.status_code == 200 and "Gil Scott" in await made.get_data(as_text=True)
    async with app.app_context():
        assert (await User.get(username="gil")).display_name == "Gil Scott"


async def test_a_program_registers_with_a_display_name(app, admin, general):
    from tests.helpers.api import Api

    status, body, _ = await Api(app).post("/api/v1/users", {"username": "hana", "email": "hana@example.com",
                                                            "password": PASSWORD, "display_name": "Hana Ito"})
    assert status == 201 and body["data"]["user"]["display_name"] == "Hana Ito"
    async with json_socket(app) as socket:
        answer = await act(socket, "new", {"username": "ivo", "email": "ivo@example.com", "password": PASSWORD,
                                           "display_name": "Ivo Andrić"})
        assert answer["data"]["user"]["display_name"] == "Ivo Andrić"
