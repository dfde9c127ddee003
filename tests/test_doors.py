"""Door × rule: every way in (a page form without htmx, htmx, REST, the JSON websocket, the
messenger API, the command line) meets every rule with the same outcome and the same words,
because each rule lives once, in its service. Like the route × role table in
tests/test_security.py: a door that offers an act must appear in every rule about that act."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from app.chat import service as chat
from app.files import service as files
from app.files.receive import ReceivedFile
from app.models import Attachment, AuditEvent, Conversation, Membership, Message, User
from app.runtime import Runtime
from app.web.throttle import MemoryLimiter
from tests.helpers import files as made
from tests.helpers.doors import (
    DOORS,
    HIDDEN,
    LIMITED,
    OK,
    REFUSED,
    CommandLineDoor,
    MessengerDoor,
    Outcome,
    PageDoor,
    RestDoor,
    SocketDoor,
    make_door,
)

POSTS_ALLOWED = 2  # in the window, for these tests
TOO_FAST = "You are sending very fast"
NO_SUCH = "There is no such conversation, or you are not in it."
NOT_HERE = "You can only reply to a message of this conversation that is still there."  # app/chat/replies.py
EVERYONE = chat.EVERYONE_IN_GENERAL
AUTHOR_EDITS = "Only its author can edit a message."
AUTHOR_OR_ADMIN_DELETES = "Only its author and administrators can delete a message."
LAST_ADMIN = "admin is the last administrator and must stay one."
OWN_ACCOUNT = "Administrators cannot delete their own account; another administrator can."
ARCHIVED = "#archive is archived: it is read-only."
PLANS = "zanzibar is the secret plan"  # alice's, in #secret: search finds it by "zanzibar"
SECRET_PLAN = "is the secret plan"  # its words as every door shows them (the page marks the match)
FORMER_PLANS, FORMER_PLAN = "quokka is the former plan", "is the former plan"  # another closed room's
MEMO = "@bob the kiwi memo"  # alice's, in #former: it mentions bob while he may read it
EVERYONE_OFF = "@everyone is turned off in #general"
CONFIRM_EVERYONE = "Notify all 33 members of #general?"  # once 31 more people are in it (crowd_in_general)
UPLOAD_LIMIT = 64 * 1024  # HUDDLE_UPLOAD_MAX_BYTES, for these tests
TOO_LARGE = "A file can be at most 64 KB"
ODD = 'AND OR NOT NEAR( "unclosed *^() -x from: in:#nowhere before:2026-13-45 \x01 😀'


@dataclass
class World:
    admin: User
    alice: User
    bob: User
    general: Conversation
    secret: Conversation  # alice's closed room; bob is not in it
    message: Message  # alice's, in #general
    archive: Conversation  # alice's archived room, bob in it: read-only
    archived: Message  # alice's, in it
    former: Conversation  # alice's closed room, bob in it until a rule removes him
    png: bytes  # a small picture to upload
    upload: Attachment  # alice's, not sent yet
    secret_file: Attachment  # alice's, sent in #secret (bob is not in it)
    former_file: Attachment  # alice's, sent in #former (bob in it until a rule removes him)


@dataclass(frozen=True)
class Rule:
    who: str | None  # who acts (None: nobody signed in)
    act: str  # the door's method
    args: Callable[[World], tuple]
    expected: Outcome
    doors: tuple[str, ...]
    times: int = 1  # the last attempt is the one that meets the rule; those before it pass
    then: Callable[[World], Awaitable[bool]] | None = None  # and afterwards, this holds
    meanwhile: Callable[[World], Awaitable[object]] | None = None  # just before the last attempt, this happens
    hides: str = ""  # words the last attempt's answer never shows (a message the actor may not read)


def in_general(username: str) -> Callable[[World], Awaitable[bool]]:
    async def check(world: World) -> bool:
        person = await User.by_username(username)
        return await Membership.exists(user_id=person.id, conversation_id=world.general.id)
    return check


async def bob_removed_from_former(world: World):
    return await chat.remove_member(world.alice, world.former, world.bob)


async def everyone_off_in_general(world: World):
    await Conversation.filter(id=world.general.id).update(everyone_allowed=False)


async def crowd_in_general(world: World):
    """31 more members: #general has 34, more than @everyone may reach without confirming."""
    people = [await User.create_account(f"crowd{n}", f"crowd{n}@example.com", password_hash="x") for n in range(31)]
    await Membership.bulk_create([Membership(user_id=p.id, conversation_id=world.general.id) for p in people])


PAGES = ("page", "htmx")
PROGRAMS = ("rest", "socket", "messenger")
SEARCH = PAGES + ("rest", "socket")
PROGRAMS_SEARCH = ("rest", "socket")  # the page takes no limit, and reads an unknown order as newest
FILES = PAGES + ("rest",)  # uploading and reading a file: the composer's script and REST
MENTIONS = PAGES + ("rest", "socket")
REACTIONS = PAGES + ("rest", "socket")  # the messenger API has no reactions
THREADS = PAGES + ("rest", "socket")  # opening a thread (the messenger API has none)
UNPREVIEW = PAGES + ("rest", "socket")  # nor link previews
NOT_THE_SENDER = "Only its sender can remove a link preview."


async def a_reply_to_alices(world: World) -> bool:
    latest = await Message.filter(conversation_id=world.general.id).order_by("-id").first()
    return latest.reply_to_id == world.message.id and latest.body == "yes"


async def alices_deleted(world: World):
    await chat.delete(world.alice, await Message.get(id=world.message.id))


RULES = {
    "posting limit": Rule("alice", "post", lambda w: (w.general.id, "hello"), Outcome(LIMITED, TOO_FAST),
                          PAGES + PROGRAMS, times=POSTS_ALLOWED + 1),
    "posting limit, first direct messages": Rule(
        "alice", "first_message", lambda w: ("bob", "hi bob"), Outcome(LIMITED, TOO_FAST), PAGES,
        times=POSTS_ALLOWED + 1),
    "closed room: a non-member cannot post": Rule(
        "bob", "post", lambda w: (w.secret.id, "let me in"), Outcome(HIDDEN, NO_SUCH), PAGES + PROGRAMS),
    "closed room: a non-member cannot read": Rule(
        "bob", "read", lambda w: (w.secret.id,), Outcome(HIDDEN, NO_SUCH), PAGES + PROGRAMS),
    "archived room: nobody posts": Rule(
        "bob", "post", lambda w: (w.archive.id, "anyone here?"), Outcome(REFUSED, ARCHIVED), PAGES + PROGRAMS),
    "archived room: not even its author edits": Rule(
        "alice", "edit", lambda w: (w.archived.id, "rewritten"), Outcome(REFUSED, ARCHIVED), PAGES + PROGRAMS),
    "#general cannot be left": Rule("alice", "leave", lambda w: (w.general.id,), Outcome(REFUSED, EVERYONE), PAGES),
    "nobody is removed from #general": Rule(
        "admin", "remove", lambda w: (w.general.id, w.bob), Outcome(REFUSED, EVERYONE), PAGES),
    "the author edits": Rule("alice", "edit", lambda w: (w.message.id, "better"), Outcome(OK), PAGES + PROGRAMS),
    "another member does not edit": Rule(
        "bob", "edit", lambda w: (w.message.id, "mine now"), Outcome(REFUSED, AUTHOR_EDITS), PAGES + PROGRAMS),
    "an administrator does not edit": Rule(
        "admin", "edit", lambda w: (w.message.id, "moderated"), Outcome(REFUSED, AUTHOR_EDITS), PAGES + PROGRAMS),
    "another member does not delete": Rule(
        "bob", "delete", lambda w: (w.message.id,), Outcome(REFUSED, AUTHOR_OR_ADMIN_DELETES), PAGES + PROGRAMS),
    "the author deletes": Rule("alice", "delete", lambda w: (w.message.id,), Outcome(OK), PAGES + PROGRAMS),
    "an administrator deletes": Rule("admin", "delete", lambda w: (w.message.id,), Outcome(OK), PAGES + PROGRAMS),
    "a registered account is in #general": Rule(
        None, "register", lambda w: ("carol",), Outcome(OK), PAGES + PROGRAMS, then=in_general("carol")),
    "an account an administrator adds is in #general": Rule(
        "admin", "add_user", lambda w: ("carol",), Outcome(OK), PAGES + ("command line",), then=in_general("carol")),
    "the last administrator stays one": Rule(
        "admin", "demote", lambda w: (w.admin,), Outcome(REFUSED, LAST_ADMIN), PAGES + ("command line",)),
    "an administrator's own account is not deleted (from the profile)": Rule(
        "admin", "delete_account", lambda w: (w.admin,), Outcome(REFUSED, OWN_ACCOUNT), PAGES),
    "an administrator's own account is not deleted (from the admin area)": Rule(
        "admin", "delete_user", lambda w: (w.admin,), Outcome(REFUSED, OWN_ACCOUNT), PAGES),
    # Search: the page, the header's panel (htmx), REST and the JSON websocket; the conversation's
    # search is each of them given its id. What is found is what may be read (chat.may_read).
    "search: nobody signed in searches": Rule(None, "search", lambda w: ("zanzibar",), Outcome(REFUSED), SEARCH),
    "search: a member of a closed room finds its messages": Rule(
        "alice", "search", lambda w: ("zanzibar",), Outcome(OK, SECRET_PLAN), SEARCH),
    "search: someone not in a closed room never finds its messages": Rule(
        "bob", "search", lambda w: ("zanzibar",), Outcome(OK), SEARCH, hides=SECRET_PLAN),
    "search: a removed member stops finding them in the very next search": Rule(
        "bob", "search", lambda w: ("quokka",), Outcome(OK), SEARCH, times=2, meanwhile=bob_removed_from_former,
        hides=FORMER_PLAN),
    "search: an administrator finds only what they may read": Rule(
        "admin", "search", lambda w: ("zanzibar",), Outcome(OK), SEARCH, hides=SECRET_PLAN),
    "search: in a conversation one may not read, nothing is found": Rule(
        "bob", "search", lambda w: ("zanzibar", w.secret.id), Outcome(HIDDEN, NO_SUCH), SEARCH, hides=SECRET_PLAN),
    "search: an administrator may not search in a closed room either": Rule(
        "admin", "search", lambda w: ("zanzibar", w.secret.id), Outcome(HIDDEN, NO_SUCH), SEARCH, hides=SECRET_PLAN),
    "search: odd words and cursors are searched, never an error": Rule(
        "alice", "search", lambda w: (ODD, None, "zzz\x00"), Outcome(OK), SEARCH),
    "search: a limit out of 1 to 100 is refused, naming it": Rule(
        "alice", "search_with", lambda w: ({"q": "plan", "limit": 0},), Outcome(REFUSED, "limit"), PROGRAMS_SEARCH),
    "search: an order other than newest or relevant is refused, naming it": Rule(
        "alice", "search_with", lambda w: ({"q": "plan", "order": "sideways"},), Outcome(REFUSED, "order"),
        PROGRAMS_SEARCH),
    # Mentions: @everyone's two rules wherever one posts; the list of what mentioned me, mine only and
    # only where I may read now (chat.may_read).
    "@everyone where a room turned it off is refused": Rule(
        "alice", "post", lambda w: (w.general.id, "@everyone lunch?"), Outcome(REFUSED, EVERYONE_OFF),
        PAGES + PROGRAMS, meanwhile=everyone_off_in_general),
    "@everyone in a room of more than 30 is confirmed first": Rule(
        "alice", "post", lambda w: (w.general.id, "@everyone deploy"), Outcome(REFUSED, CONFIRM_EVERYONE),
        PAGES + PROGRAMS, meanwhile=crowd_in_general),
    # Files: uploads count as posts and are refused past the limit wherever they come in; sent, a file
    # is read by who may read its message now (chat.may_read), administrators included, nobody else.
    "uploads count in the posting limit": Rule(
        "alice", "upload", lambda w: ("a.png", w.png), Outcome(LIMITED, TOO_FAST), FILES, times=POSTS_ALLOWED + 1),
    "a file past the upload limit is refused": Rule(
        "alice", "upload", lambda w: ("big.bin", b"\0" * (UPLOAD_LIMIT + 1)), Outcome(REFUSED, TOO_LARGE), FILES),
    "files alone are a message": Rule(
        "alice", "post_files", lambda w: (w.general.id, "", [w.upload.id]), Outcome(OK), PAGES + PROGRAMS),
    "someone else's upload is not theirs to send": Rule(
        "bob", "post_files", lambda w: (w.general.id, "mine now", [w.upload.id]), Outcome(REFUSED, files.NOT_YOURS),
        PAGES + PROGRAMS),
    "files: nobody signed in reads one": Rule(None, "fetch_file", lambda w: (w.secret_file,), Outcome(REFUSED), FILES),
    "files: a member reads one": Rule("alice", "fetch_file", lambda w: (w.secret_file,), Outcome(OK), FILES),
    "files: someone not in a closed room never reads its files": Rule(
        "bob", "fetch_file", lambda w: (w.secret_file,), Outcome(HIDDEN), FILES),
    "files: an administrator reads only what they may read": Rule(
        "admin", "fetch_file", lambda w: (w.secret_file,), Outcome(HIDDEN), FILES),
    "files: a removed member stops reading them at once": Rule(
        "bob", "fetch_file", lambda w: (w.former_file,), Outcome(HIDDEN), FILES, times=2,
        meanwhile=bob_removed_from_former),
    # Reactions: members only (as posting), never in an archived room, one emoji of the table.
    "replies: a member replies to a message of the conversation": Rule(
        "bob", "reply", lambda w: (w.general.id, "yes", w.message.id), Outcome(OK), PAGES + PROGRAMS,
        then=a_reply_to_alices),
    "replies: to a message of a closed room one is not in: refused, nothing of it shown": Rule(
        "bob", "reply", lambda w: (w.general.id, "re", w.secret_file.message_id), Outcome(REFUSED, NOT_HERE),
        PAGES + PROGRAMS, hides="s.png"),
    "replies: an administrator not in that room neither": Rule(
        "admin", "reply", lambda w: (w.general.id, "re", w.secret_file.message_id), Outcome(REFUSED, NOT_HERE),
        PAGES + PROGRAMS, hides="s.png"),
    "replies: to a deleted message: refused": Rule(
        "bob", "reply", lambda w: (w.general.id, "re", w.message.id), Outcome(REFUSED, NOT_HERE), PAGES + PROGRAMS,
        meanwhile=alices_deleted),
    "replies: to what is not a message id: refused": Rule(
        "bob", "reply", lambda w: (w.general.id, "re", "nope"), Outcome(REFUSED), PAGES + PROGRAMS),
    "reactions: a member reacts": Rule("bob", "react", lambda w: (w.message.id, "👍"), Outcome(OK), REACTIONS),
    "reactions: someone not in a closed room cannot react there": Rule(
        "bob", "react", lambda w: (w.secret_file.message_id, "👍"), Outcome(HIDDEN), REACTIONS),
    "reactions: an administrator not in a closed room cannot either": Rule(
        "admin", "react", lambda w: (w.secret_file.message_id, "👍"), Outcome(HIDDEN), REACTIONS),
    "reactions: nobody reacts in an archived room": Rule(
        "bob", "react", lambda w: (w.archived.id, "👍"), Outcome(REFUSED, ARCHIVED), REACTIONS),
    "reactions: anything but one emoji is refused, naming it": Rule(
        "bob", "react", lambda w: (w.message.id, "👍\u200d👍"), Outcome(REFUSED, "emoji"), REACTIONS),
    # Link previews: only its sender removes one (administrators neither), where they may read, not archived.
    "link previews: its sender removes one": Rule("alice", "unpreview", lambda w: (w.message.id,), Outcome(OK),
                                                  UNPREVIEW),
    "link previews: nobody else removes one": Rule(
        "bob", "unpreview", lambda w: (w.message.id,), Outcome(REFUSED, NOT_THE_SENDER), UNPREVIEW),
    "link previews: an administrator neither": Rule(
        "admin", "unpreview", lambda w: (w.message.id,), Outcome(REFUSED, NOT_THE_SENDER), UNPREVIEW),
    "link previews: someone not in a closed room finds nothing there": Rule(
        "bob", "unpreview", lambda w: (w.secret_file.message_id,), Outcome(HIDDEN), UNPREVIEW),
    "link previews: none is removed in an archived room": Rule(
        "alice", "unpreview", lambda w: (w.archived.id,), Outcome(REFUSED, ARCHIVED), UNPREVIEW),
    # Threads: whoever may read the message opens its thread (its page or panel, and for programs).
    "threads: a member opens a message's thread": Rule(
        "bob", "open_thread", lambda w: (w.message.id,), Outcome(OK), THREADS),
    "threads: someone not in a closed room cannot open one there": Rule(
        "bob", "open_thread", lambda w: (w.secret_file.message_id,), Outcome(HIDDEN), THREADS),
    "threads: an administrator not in a closed room cannot either": Rule(
        "admin", "open_thread", lambda w: (w.secret_file.message_id,), Outcome(HIDDEN), THREADS),
    "mentions: nobody signed in has any": Rule(None, "mentions", lambda w: (), Outcome(REFUSED), MENTIONS),
    "mentions: the person mentioned finds them": Rule("bob", "mentions", lambda w: (), Outcome(OK, "kiwi memo"),
                                                       MENTIONS),
    "mentions: nobody finds someone else's": Rule("alice", "mentions", lambda w: (), Outcome(OK), MENTIONS,
                                                  hides="kiwi memo"),
    "mentions: a removed member stops finding them in the very next look": Rule(
        "bob", "mentions", lambda w: (), Outcome(OK), MENTIONS, times=2, meanwhile=bob_removed_from_former,
        hides="kiwi memo"),
}
DOOR_CLASSES = {"page": PageDoor, "htmx": PageDoor, "rest": RestDoor, "socket": SocketDoor,
                "messenger": MessengerDoor, "command line": CommandLineDoor}
CASES = [(rule, door) for rule, spec in RULES.items() for door in spec.doors]


def test_every_door_that_offers_an_act_meets_every_rule_about_it():
    for name, rule in RULES.items():
        offering = tuple(door for door in DOORS if hasattr(DOOR_CLASSES[door], rule.act))
        assert rule.doors == offering, f"{name}: doors {rule.doors}, but {offering} offer {rule.act}"


@pytest.fixture
async def world(app, settings, general, admin, alice, bob, tmp_path) -> World:
    settings.upload_max_bytes = UPLOAD_LIMIT
    png = made.png(tmp_path / "p.png").read_bytes()

    async def upload(name: str) -> Attachment:
        path = tmp_path / name
        path.write_bytes(png)
        return await files.upload(alice, ReceivedFile(path, name, len(png)))

    async with app.app_context():
        secret = await chat.create_room(alice, "secret", is_open=False)
        message = await chat.post(alice, general, "from alice")
        archive = await chat.create_room(alice, "archive", is_open=False, member_names=["bob"])
        archived = await chat.post(alice, archive, "the last word")
        await chat.change_room(alice, archive, archived=True)
        await chat.post(alice, secret, PLANS)
        former = await chat.create_room(alice, "former", is_open=False, member_names=["bob"])
        await chat.post(alice, former, FORMER_PLANS)
        await chat.post(alice, former, MEMO)
        unsent, secret_file, former_file = await upload("unsent.png"), await upload("s.png"), await upload("f.png")
        await chat.post(alice, secret, "", attachments=[secret_file.id])
        await chat.post(alice, former, "", attachments=[former_file.id])
        # As stored now: sent, each names its message (the rows about a message of #secret use it).
        secret_file, former_file = await Attachment.get(id=secret_file.id), await Attachment.get(id=former_file.id)
    # A fresh count, and a small limit: the posting rows need only a few posts.
    Runtime.of(app).limiters.post_user = MemoryLimiter(POSTS_ALLOWED, 10)
    return World(admin, alice, bob, general, secret, message, archive, archived, former, png, unsent, secret_file,
                 former_file)


@pytest.mark.parametrize("rule, door", CASES, ids=[f"{rule} × {door}" for rule, door in CASES])
async def test_each_door_meets_each_rule_with_the_same_outcome(app, settings, world, rule, door):
    spec = RULES[rule]
    entrance = make_door(door, app, settings)
    if spec.who:
        await entrance.sign_in(spec.who)
    try:
        act = getattr(entrance, spec.act)
        for _ in range(spec.times - 1):
            assert (await act(*spec.args(world))).kind == OK
        if spec.meanwhile is not None:
            async with app.app_context():
                await spec.meanwhile(world)
        outcome = await act(*spec.args(world))
    finally:
        if isinstance(entrance, SocketDoor):
            await entrance.close()
    assert outcome.agrees_with(spec.expected), f"{rule} at the {door} door: {outcome}"
    assert not spec.hides or spec.hides not in outcome.text, f"{rule} at the {door} door: shows {spec.hides!r}"
    if spec.then is not None:
        assert await spec.then(world), f"{rule} at the {door} door: not so afterwards"


# --- the two bugs this table was made for ------------------------------------------------------

async def test_first_direct_messages_count_against_the_posting_limit(app, world):
    """POST /chat/new once stored every message of a burst: its posts never counted."""
    door = PageDoor(app, htmx=False)
    await door.sign_in("alice")
    for n in range(POSTS_ALLOWED):
        assert (await door.first_message("bob", f"hi {n}")).kind == OK
    direct = await Conversation.get(direct_key=f"{world.alice.id},{world.bob.id}")
    response = await door.client.post("/chat/new", {"usernames": "bob", "body": "one too many"})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    page = await response.get_data(as_text=True)
    assert TOO_FAST in page and "one too many" in page  # said by the composer, the text kept
    assert await Message.filter(conversation_id=direct.id).count() == POSTS_ALLOWED
    # Over the limit, a first message to someone new makes no conversation either.
    assert (await door.first_message("admin", "hello admin")).kind == LIMITED
    assert await Conversation.filter(direct_key=f"{world.admin.id},{world.alice.id}").count() == 0


async def test_nobody_is_removed_from_general_not_even_by_an_administrator(app, world, sign_in):
    """An admin once removed bob from #general; he came back, silently, on his next visit."""
    door = PageDoor(app, htmx=False)
    await door.sign_in("admin")
    outcome = await door.remove(world.general.id, world.bob)
    assert outcome.kind == REFUSED and EVERYONE in outcome.text
    assert await Membership.exists(user_id=world.bob.id, conversation_id=world.general.id)
    assert not await AuditEvent.filter(action="room.member_removed").exists()
    page = await (await (await sign_in("alice")).get(f"/chat/{world.general.id}")).get_data(as_text=True)
    assert "3 members" in page and ">Leave</button>" not in page  # the page asks the same rule
