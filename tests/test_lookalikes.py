"""Names that look like other names (Unicode TR39 skeletons, app/lookalikes.py) are refused on
every door where a name is set: usernames (the form, REST, the JSON websocket, the messenger API,
the admin's edit, the command line) and room names (the form, REST), with one message each; and
a link shows where it goes, whatever bidi controls its text holds."""
from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import unicodedata
from html import unescape

import pytest

from app import lookalikes
from app.accounts import service as accounts
from app.admin import service as admin_service
from app.chat import service as chat
from app.chat.conversations import ROOM_MIXED_SCRIPTS, ROOM_TAKEN, ROOM_TOO_CLOSE
from app.chat.text import linkify
from app.config import ROOT
from app.domain import Invalid
from app.models import Conversation, ReservedName, User, hashing, usernames
from tests.helpers import ARGON2_MEMORY_KIB, PASSWORD
from tests.helpers.api import Api, act, api_login, json_socket
from tests.helpers.html import text_of

CYRILLIC_ALICE = "\u0430\u04cf\u0456\u0441\u0435"  # а ӏ і с е: every letter Cyrillic
TURKISH_ALICE = "AL\u0130CE"  # a capital dotted İ: case-folds to i + U+0307
CAPITAL_I_ALICE = "aIice"  # a capital I where the l is
LOOK_ALIKES = [CYRILLIC_ALICE, TURKISH_ALICE, CAPITAL_I_ALICE]
CYRILLIC_E_GENERAL = "g\u0435neral"  # a Cyrillic е among Latin letters
RLO_URL = "https://evil.example/\u202emoc.elgoog.www//:sptth"  # shows as ending in https://www.google.com


# --- the data and the skeletons --------------------------------------------------------------------

# Unicode 17.0.0, as published (the UTS #39 and UCD files' own checksums; the licence as Unicode ships it).
VENDORED = {
    "confusables-17.0.0.txt": "091c7f82fc39ef208faf8f94d29c244de99254675e09de163160c810d13ef22a",
    "Scripts-17.0.0.txt": "9f5e50d3abaee7d6ce09480f325c706f485ae3240912527e651954d2d6b035bf",
    "ScriptExtensions-17.0.0.txt": "ec2107e58825a1586acee8e0911ce18260394ac8b87e535ca325f1ccbeb06bc6",
    "PropertyValueAliases-17.0.0.txt": "64e9a5f76f7a1e8b5a47d6a1f9a26522a251208f5276bdfa1559dac7cf2e827a",
    "LICENSE-Unicode-3.0.txt": "fe5c62b543e287981db198f2acfa0ca732d12591a1024536dc8fd85dacd77104",
}


def test_the_unicode_data_is_unicodes_own_unchanged():
    found = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in lookalikes.DATA.iterdir()}
    assert found == VENDORED


@pytest.mark.parametrize("name", ["alice", *LOOK_ALIKES, "ALICE", "ａｌｉｃｅ"])
def test_look_alikes_of_alice_share_a_skeleton_with_it(name):
    assert usernames.skeletons(name)[0] == usernames.skeletons("alice")[0] or (
        usernames.skeletons(name)[1] == usernames.skeletons("alice")[1])


@pytest.mark.parametrize("name", ["alicia", "alce", "bob", "alíce", "аліса"])
def test_other_names_do_not(name):
    folded, shown = usernames.skeletons(name)
    assert folded != "alice" and shown != "alice"


def test_the_standards_own_examples():
    assert lookalikes.skeleton("paypal") == lookalikes.skeleton("p\u0430yp\u0430l") == lookalikes.skeleton("paypaI")
    assert lookalikes.skeleton("1") == lookalikes.skeleton("l") == lookalikes.skeleton("I")
    assert lookalikes.skeleton("rn") == lookalikes.skeleton("m")


def test_no_letter_or_digit_has_a_longer_skeleton_than_the_columns_allow():
    longest = 0
    for cp in range(0x110000):
        ch = chr(cp)
        if unicodedata.category(ch)[0] in "LN" and len(unicodedata.normalize("NFKC", ch)) == 1:
            ch = unicodedata.normalize("NFKC", ch)
            longest = max(longest, len(lookalikes.folded_skeleton(ch)), len(lookalikes.shown_skeleton(ch)))
    assert longest == lookalikes.SKELETON_GROWTH


@pytest.mark.parametrize("text, mixed", [
    ("p\u0430ypal", True), (CYRILLIC_E_GENERAL, True), ("\u0455ecret", True), ("Αlpha", True),  # Greek Α
    ("alice", False), (CYRILLIC_ALICE, False), ("ゆーこ", False), ("山田たろう", False), ("日本語チーム", False),
    ("한국어韓國", False), ("team42", False), ("42", False), ("Ελλάδα", False),
])
def test_mixed_scripts(text, mixed):
    assert lookalikes.mixed_scripts(text) is mixed


@pytest.mark.parametrize("name, problem", [
    ("ゆーこ", None), ("山田たろう", None), ("김민준", None), ("Zoë", None),  # one writing system each
    ("p\u0430ypal", "one alphabet"), ("al\u02b9ce", "Use only letters"),  # a modifier letter prime
])
def test_username_scripts(name, problem):
    found = usernames.problem(name)
    assert found is None if problem is None else problem in found


@pytest.mark.parametrize("name", ["everyone", "Everyone", "EVERYONE", "ｅｖｅｒｙｏｎｅ"])
def test_no_account_is_named_everyone(name):
    """@everyone mentions every member: no person may be it (look-alikes with a Greek ο or a
    Cyrillic е are refused too, as mixed alphabets)."""
    assert usernames.problem(usernames.normalize(name)) == usernames.RESERVED_NAME.format(name="everyone")
    assert usernames.problem("everyοne") and usernames.problem("evеryone")
    assert usernames.problem("everyone2") is None


async def test_registering_as_everyone_is_refused_beside_the_field(client):
    response = await client.post("/register", account("ＥＶＥＲＹＯＮＥ"))  # full-width: folded first
    assert response.status_code == 422
    assert "is reserved: @everyone mentions every member" in text_of(await response.get_data(as_text=True))
    assert not await User.filter(email="new@example.com").exists()


# --- usernames, on every door ---------------------------------------------------------------------

@pytest.fixture
async def ctx(app):
    """The app's context, as a request or the command line has it (events render templates)."""
    async with app.app_context():
        yield app


def account(name: str) -> dict:
    return {"username": name, "email": "new@example.com", "password": PASSWORD, "confirm_password": PASSWORD}


@pytest.mark.parametrize("name", LOOK_ALIKES)
async def test_the_register_form_refuses_a_look_alike_beside_the_field(client, alice, name):
    response = await client.post("/register", account(name))
    html = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="username-error"' in html and usernames.TOO_CLOSE in text_of(html)
    assert not await User.filter(email="new@example.com").exists()


@pytest.mark.parametrize("name", LOOK_ALIKES)
async def test_rest_registration_refuses_a_look_alike(app, alice, name):
    status, answer, _ = await Api(app).post("/api/v1/users", {"username": name, "email": "new@example.com",
                                                              "password": PASSWORD})
    assert status == 422 and answer["error"]["fields"] == {"username": usernames.TOO_CLOSE}
    assert not await User.filter(email="new@example.com").exists()


@pytest.mark.parametrize("name", LOOK_ALIKES)
async def test_the_json_websocket_refuses_a_look_alike(app, alice, name):
    async with json_socket(app) as socket:
        answer = await act(socket, "new", {"username": name, "email": "new@example.com", "password": PASSWORD})
    assert answer["fields"] == {"username": usernames.TOO_CLOSE}
    assert not await User.filter(email="new@example.com").exists()


@pytest.mark.parametrize("name", LOOK_ALIKES)
async def test_the_messenger_api_refuses_a_look_alike(app, alice, name):
    before = await User.all().count()
    status, answer, _ = await Api(app).post("/api/messenger/user", {"Username": name, "Password": PASSWORD})
    assert status == 422 and answer == {"Message": usernames.TOO_CLOSE, "Data": None}
    assert await User.all().count() == before


@pytest.mark.parametrize("name", LOOK_ALIKES)
async def test_an_administrator_cannot_rename_someone_to_a_look_alike(sign_in, alice, bob, name):
    admin = await sign_in("admin")
    response = await admin.post(f"/admin/users/{bob.id}", {"username": name, "email": "bob@example.com",
                                                            "password": "", "confirm_password": ""}, htmx=True)
    html = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="user-{bob.id}-row-username-error"' in html and usernames.TOO_CLOSE in text_of(html)
    assert (await User.get(id=bob.id)).username == "bob"


async def test_renaming_keeps_or_changes_the_skeletons_with_the_name(ctx, sign_in, alice, bob):
    admin = await sign_in("admin")
    response = await admin.post(f"/admin/users/{bob.id}", {"username": "Molly", "email": "bob@example.com"})
    assert response.status_code in (200, 303)
    molly = await User.get(id=bob.id)
    assert (molly.username_skeleton, molly.username_shown_skeleton) == usernames.skeletons("Molly")
    # The old name stays reserved (a newcomer cannot pass for the old bob) until an admin frees it,
    # and a look-alike of the new one is not free either.
    with pytest.raises(Invalid, match="belonged to someone before"):
        await accounts.register("bob", "bob2@example.com", PASSWORD, PASSWORD)
    await admin_service.free_name(await User.get(username="admin"), (await ReservedName.get(name_key="bob")).id)
    assert (await accounts.register("bob", "bob2@example.com", PASSWORD, PASSWORD)).username == "bob"
    with pytest.raises(Invalid, match="looks too much like"):
        await accounts.register("MoIly", "m@example.com", PASSWORD, PASSWORD)  # a capital I


async def test_an_unchanged_name_that_already_looked_alike_can_still_be_edited(sign_in, alice):
    """A name made before the rule (migration 7 left its skeletons NULL) keeps its name when the
    administrator changes something else."""
    old = await User.create(username=CYRILLIC_ALICE, username_key=CYRILLIC_ALICE, email="old@example.com",
                            password_hash="x", username_skeleton="x", username_shown_skeleton="x")
    await User.filter(id=old.id).update(username_skeleton=None, username_shown_skeleton=None)
    admin = await sign_in("admin")
    response = await admin.post(f"/admin/users/{old.id}", {"username": CYRILLIC_ALICE, "email": "new@example.com"})
    assert response.status_code in (200, 303)
    assert (await User.get(id=old.id)).email == "new@example.com"


def test_the_command_line_refuses_a_look_alike(tmp_path):
    env = dict(os.environ, HUDDLE_DATA_DIR=str(tmp_path), HUDDLE_DATABASE_URL="",
               HUDDLE_ARGON2_MEMORY_KIB=str(ARGON2_MEMORY_KIB))

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, input=PASSWORD + "\n",
                              capture_output=True, text=True)

    assert cli("migrate").returncode == 0
    assert cli("create-user", "alice", "alice@example.com", "--password-stdin").returncode == 0
    for n, name in enumerate(LOOK_ALIKES):
        refused = cli("create-user", name, f"x{n}@example.com", "--password-stdin")
        assert refused.returncode == 1 and refused.stderr.strip() == f"username: {usernames.TOO_CLOSE}"


async def test_two_look_alikes_registering_at_the_same_moment_make_one_account(ctx, admin, monkeypatch):
    """Both pass the check before either writes (held at the password hash): the unique skeleton
    column lets one in and refuses the other."""
    both_checked = asyncio.Barrier(2)
    real_hash = hashing.hash_password

    async def hash_after_both_checked(password):
        await both_checked.wait()
        return await real_hash(password)

    monkeypatch.setattr(hashing, "hash_password", hash_after_both_checked)
    results = await asyncio.gather(
        accounts.register("alice", "a@example.com", PASSWORD, PASSWORD),
        accounts.register(CYRILLIC_ALICE, "c@example.com", PASSWORD, PASSWORD),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Invalid", "User"]
    assert await User.filter(email__in=["a@example.com", "c@example.com"]).count() == 1


# --- room names -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, message", [
    (CYRILLIC_E_GENERAL, ROOM_MIXED_SCRIPTS), ("\u0455ecret", ROOM_MIXED_SCRIPTS),  # a Cyrillic ѕ
    ("generaI", ROOM_TOO_CLOSE),  # a capital I
    ("\u043e\u0440\u0455", ROOM_TOO_CLOSE),  # о р ѕ: all Cyrillic, looks like the room "ops"
    ("OPS", ROOM_TAKEN),
])
async def test_the_new_room_form_refuses_look_alike_names_beside_the_field(ctx, client, general, alice, name,
                                                                           message):
    await chat.create_room(alice, "ops")
    await client.login("alice")
    response = await client.post("/chat/rooms/new", {"name": name, "open": "open"})
    html = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="name-error"' in html and message in unescape(text_of(html))
    assert await Conversation.filter(kind="room").count() == 2


@pytest.mark.parametrize("name, message", [(CYRILLIC_E_GENERAL, ROOM_MIXED_SCRIPTS), ("generaI", ROOM_TOO_CLOSE)])
async def test_rest_refuses_look_alike_room_names(app, general, name, message):
    api = await api_login(app, "alice")
    status, answer, _ = await api.post("/api/v1/conversations", {"room": name})
    assert status == 422 and answer["error"]["fields"] == {"name": message}
    assert await Conversation.filter(kind="room").count() == 1


@pytest.mark.parametrize("name", ["日本語チーム", "dev-разработка", "ops.2", "Ελλάδα"])
async def test_names_in_one_writing_system_per_word_make_rooms(ctx, alice, name):
    room = await chat.create_room(alice, name)
    assert (room.name_skeleton, room.name_shown_skeleton) == Conversation.skeletons(name)


async def test_two_look_alike_rooms_made_at_the_same_moment_make_one(ctx, alice, bob):
    results = await asyncio.gather(chat.create_room(alice, "coop"), chat.create_room(bob, "\u0441\u043e\u043e\u0440"),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Conversation", "Invalid"]
    refused = next(r for r in results if isinstance(r, Invalid))
    assert refused.errors == {"name": ROOM_TOO_CLOSE} or refused.errors == {"name": ROOM_TAKEN}


# --- links ----------------------------------------------------------------------------------------

BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_a_link_loses_its_bidi_controls_and_is_a_left_to_right_isolate():
    html = str(linkify(f"look: {RLO_URL} ok"))
    clean = RLO_URL.replace("\u202e", "")
    assert html == (f'look: <bdi dir="ltr"><a href="{clean}" rel="noopener nofollow ugc" target="_blank">'
                    f'{clean}</a></bdi> ok')


@pytest.mark.parametrize("control", BIDI)
def test_every_bidi_control_leaves_links(control):
    html = str(linkify(f"https://example.com/{control}path{control}?q=1{control}."))
    assert '<a href="https://example.com/path?q=1" rel' in html and ">https://example.com/path?q=1</a>" in html
    assert html.endswith(f"</bdi>{control}.")  # after the link, the text stays as written


def test_the_rest_of_the_text_keeps_what_the_person_wrote():
    text = "\u202bשלום\u202c and \u2067مرحبا\u2069 then https://example.com"
    html = str(linkify(text))
    assert html.startswith("\u202bשלום\u202c and \u2067مرحبا\u2069 then <bdi dir=\"ltr\"><a href=\"https://example.com\"")


async def test_a_posted_link_shows_where_it_goes(ctx, client, general, alice):
    await chat.post(alice, general, f"see {RLO_URL}")
    await client.login("bob")
    page = await (await client.get(f"/chat/{general.id}")).get_data(as_text=True)
    clean = RLO_URL.replace("\u202e", "")
    link = f'<a href="{clean}" target="_blank" rel="noopener noreferrer nofollow ugc">{clean}</a>'
    assert f'<bdi dir="ltr">{link}</bdi>' in page
    assert "\u202e" not in page
