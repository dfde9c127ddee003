"""No 500 from any input, on either database.

Hypothesis throws arbitrary strings (NUL, lone surrogates, huge, right-to-left, emoji, control
characters) and numbers (negative, 0, 2^31, 2^63, 10^30, floats, bools) at every parameter of
every route in the app's URL map (path segments, query arguments, form fields, JSON fields) and
at every socket action (the JSON websocket's actions and their data, the messenger socket, the
page socket's hello and typing), on SQLite and on PostgreSQL, signed in as an administrator so
the routes are reached. The answer is a refusal (4xx) or a success, never a 5xx; no traceback
is logged (the "huddle" and "quart.app" loggers' errors); a socket keeps answering and writes
only text that UTF-8 can carry. Bounded and deterministic: EXAMPLES per route and action, from
a fixed seed (derandomize), one app per database for the whole module.

Below the fuzzing, the findings it started from, one test each (they failed before the fix)."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.expressions import Q

from app import create_app
from app.api.program_socket import MAX_FRAME
from app.api.ws import JsonDialect
from app.config import Settings
from app.domain import quotable
from app.models import Conversation, Feedback, Invitation, Membership, Message, User, UserSession
from app.web.urls import IdConverter
from tests.helpers import ARGON2_MEMORY_KIB, PASSWORD
from tests.helpers.accounts import make_user
from tests.helpers.client import TOKEN_RE
from tests.helpers.postgres import scratch_database

EXAMPLES = int(os.environ.get("HUDDLE_FUZZ_EXAMPLES", "6"))  # per route or action, per database
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=False,
                suppress_health_check=list(HealthCheck))

# --- what is thrown -----------------------------------------------------------------------------

NASTY = [
    "", " ", "\x00", "a\x00b", "alice\x00", "\ud800", "x\udfffy", "\ud83d", "\u202egnp.exe", "\u200f\u0627\u0644\u0639",
    "😀" * 3, "\x01\x08\x1b[31m\x7f", "\r\n", "\t", "%00", "../../etc/passwd", "<script>alert(1)</script>",
    "{{ 7*7 }}", "٣", "²", "０１", "-1", "0", "00", str(2**31), str(2**63 - 1), str(2**63), "9" * 30, "1e3", "1.5",
    "NaN", "true", "null", "admin", "ALICE", "a" * 31, "x" * 9000, "ǅ" * 40, "ﬃ" * 30,
]
NUMBERS = [0, 1, -1, 2**31 - 1, 2**31, 2**32, 2**62, 2**63 - 1, 2**63, -2**63, 10**30, 1.5, -0.0, 1e308,
           True, False]
# Every code point: surrogates (Cs) and controls (Cc) included, which st.text() leaves out by default.
ANY_CHARACTER = st.characters(exclude_categories=())
TEXT = st.one_of(st.sampled_from(NASTY), st.text(ANY_CHARACTER, max_size=40))
NUMBER = st.one_of(st.sampled_from(NUMBERS), st.integers(), st.floats())
SCALAR = st.one_of(TEXT, NUMBER, st.none())
JSON_VALUE = st.one_of(SCALAR, st.lists(SCALAR, max_size=3), st.dictionaries(TEXT, SCALAR, max_size=3))

# Every name a door reads (forms, query strings, JSON bodies, socket data): each example sends a
# selection of them, most at a good value and some at a bad one, so that one bad value meets the
# code behind the other checks.
FORM = ["username", "email", "password", "confirm_password", "current_password", "next", "invitation", "body",
        "client_id", "seq", "name", "topic", "open", "members", "usernames", "people", "title", "content", "kind",
        "days", "is_admin", "archived", "display_name", "level", "confirm_everyone", "follow",
        "everyone", "everyone_shown", "attachments", "emoji", "reply_to", "previews"]
QUERY = ["next", "reason", "after", "before", "limit", "to", "user", "welcome", "cancel", "invitation", "q", "order",
         "in", "conversation_id", "panel", "reply_to"]
JSON_FIELDS = ["username", "email", "password", "invitation", "usernames", "room", "topic", "text", "client_id",
               "seq", "Username", "Password", "Email", "Invitation", "Recipient", "ConversationId", "MessageId",
               "Message", "name", "is_open", "archived", "display_name", "level", "confirm_everyone",
               "everyone_allowed", "endpoint", "keys", "attachments", "Attachments", "reply_to", "ReplyTo"]
WS_FIELDS = ["username", "email", "password", "invitation", "token", "conversations", "id", "conversation_id",
             "message_id", "text", "client_id", "seq", "before", "after", "limit", "state", "display_name", "q",
             "order", "level", "confirm_everyone", "attachments", "emoji", "reply_to"]
WS_ACTIONS = sorted(name[3:] for name in dir(JsonDialect) if name.startswith("do_"))
OPEN_ACTIONS = {"new", "login", "auth"}


@dataclass
class World:
    """What exists now: good values to send beside the bad ones."""
    users: list[int]
    conversations: list[int]
    messages: list[int]
    feedback: list[int]
    invitations: list[int]
    sessions: list[int]
    seqs: list[int] = field(default_factory=lambda: [0, 1, 2, 5])

    def values(self, name: str) -> list:
        """Good values for a field or path segment of this name."""
        ids = {"conversation_id": self.conversations, "ConversationId": self.conversations, "id": self.users,
               "message_id": self.messages, "MessageId": self.messages, "user_id": self.users,
               "session_id": self.sessions, "feedback_id": self.feedback, "invitation_id": self.invitations,
               "thread_id": self.conversations}  # a room is no thread: its code says so, never a 500
        if name in ids:
            return ids[name] or [1]
        if name in {"seq", "before", "after"}:
            return self.seqs
        if name == "conversations":
            return [{str(c): 0} for c in self.conversations[:3]] or [{"1": 0}]
        if name == "usernames":
            return [["alice"], ["alice", "bob"]]
        if name in {"people", "members"}:
            return ["alice bob"]
        return GOOD.get(name, ["x"])

    def good(self, name: str) -> st.SearchStrategy:
        return st.sampled_from(self.values(name))

    def first(self, name: str):
        return self.values(name)[0]


GOOD = {
    "username": ["alice", "bob", "admin", "carol"], "Username": ["alice", "carol"], "Recipient": ["alice", "bob"],
    "email": ["carol@example.com", "alice@example.com"], "Email": ["dave@example.com"],
    "password": [PASSWORD], "Password": [PASSWORD], "confirm_password": [PASSWORD], "current_password": [PASSWORD],
    "next": ["/chat"], "reason": ["revoked"], "invitation": ["no-such-invitation"], "Invitation": ["nope"],
    "body": ["hello"], "text": ["hello"], "Message": ["hello"], "client_id": ["c-1"], "name": ["lounge2"],
    "room": ["lounge2", "general"], "topic": ["about"], "open": ["open", "closed"], "title": ["A title"],
    "content": ["Words"],
    "kind": ["single", "multi"], "days": ["7"], "is_admin": ["on", ""], "limit": [10], "to": ["alice"],
    "user": ["alice"], "welcome": ["1"], "cancel": [""], "state": ["start", "stop"], "token": ["x"],
    "archived": ["on", ""], "is_open": [True, False], "q": ["hello", '"hello everyone" -x from:admin', "hel"],
    "order": ["newest", "relevant"], "in": ["1"], "panel": ["1"], "level": ["all", "mentions", "nothing"],
    "confirm_everyone": ["1", True], "everyone": ["on", ""], "everyone_shown": ["1"], "everyone_allowed": [True, False],
    # A push subscription (api/push.py): a public address (no DNS), and one aimed inward.
    "endpoint": ["https://93.184.215.14/push/fuzz", "https://127.0.0.1/push"],
    "follow": ["1", "0"],  # following a thread, or not (app/chat/thread_routes.py)
    # Ids of uploads (none exist in the fuzzed world: each names nothing of the sender's).
    "attachments": [[], [1], "1"], "Attachments": [[], [1]],
    "emoji": ["👍", "🎉", "❤"],  # a reaction (app/chat/emoji.py's table)
    "previews": ["on", "off"],  # the admin page's link previews switch
    "reply_to": [1, "1", 2, ""], "ReplyTo": [1, 2],  # the message a post answers (app/chat/replies.py)
    "keys": [{"p256dh": "BLXyTKULgzSQLXYIoeyV-WAjglzCgJdwZhnMp5l1VzDGTKiJzKsn-eUnpSKH1GpQs4qObbWB-few8lLqssp-7tU",
              "auth": "AAAAAAAAAAAAAAAAAAAAAA"}],
}


def fields(draw, names: list[str], world: World, bad: st.SearchStrategy) -> dict:
    """A selection of names: most at a good value, one (or, half the time, any) at a bad one."""
    if not draw(st.booleans()):  # one bad value among good ones
        chosen = {name: draw(world.good(name)) for name in names if draw(st.booleans())}
        target = draw(st.sampled_from(names))
        chosen[target] = draw(bad)
        return chosen
    return {name: draw(st.one_of(world.good(name), bad)) for name in names if draw(st.booleans())}


def form_text(value) -> str:
    if isinstance(value, list):
        return " ".join(form_text(each) for each in value)
    return value if isinstance(value, str) else json.dumps(value)


def encoded(values: dict) -> str:
    """A form or query string of anything: a lone surrogate goes as the bytes Python would give it."""
    return "&".join(f"{quote(name)}={quote(form_text(value), safe='', errors='surrogatepass')}"
                    for name, value in values.items())


# --- one app per database --------------------------------------------------------------------------

class Fuzzed:
    """One running app for the module: its own event loop (hypothesis drives each example from
    plain code), an administrator signed in on a browser and with an API token, and what any
    traceback logged while it runs."""

    def __init__(self, app, loop) -> None:
        self.app, self.loop = app, loop
        self.errors: list[logging.LogRecord] = []
        self.admin: User | None = None
        self.original: dict = {}
        self.browser = app.test_client()
        self.csrf = ""
        self.web_session = 0
        self.token = ""
        self.api_session = 0
        self.world: World | None = None

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def logged(self) -> list[str]:
        found = [f"{r.name}: {r.getMessage()}\n{logging.Formatter().formatException(r.exc_info) if r.exc_info else ''}"
                 for r in self.errors]
        self.errors.clear()
        return found

    # --- the people and things the examples act on ------------------------------------------------

    async def populate(self) -> None:
        from app.admin import invitations
        from app.chat import service as chat
        from app.feedback import service as feedback

        async with self.app.app_context():
            self.admin = await make_user("admin", admin=True)
            alice, _ = await make_user("alice"), await make_user("bob")
            for person in await User.all():
                await chat.welcome(person)
            general = await chat.general()
            await chat.create_room(self.admin, "lounge", "A closed room", is_open=False, member_names=["alice"])
            await chat.send_direct(self.admin, ["alice"], "hi alice")
            await chat.post(self.admin, general, "hello everyone")
            await chat.post(alice, general, "hello admin")
            await feedback.add(self.admin, self.admin, "Nice", "A good chat")
            await invitations.create(self.admin, "multi", "7")
        columns = [name for name, each in User._meta.fields_map.items()
                   if name in User._meta.db_fields and name != "id"]
        self.original = {name: getattr(self.admin, name) for name in columns}

    async def restore(self) -> None:
        """Whatever the last examples did (renamed or demoted the administrator, deleted alice,
        ended the session): back to a state where every route is reachable."""
        unique = [name for name, each in User._meta.fields_map.items() if getattr(each, "unique", False)
                  and name in self.original and self.original[name] is not None]
        others = User.exclude(id=self.admin.id)
        taken = Q(*(Q(**{name: self.original[name]}) for name in unique), join_type="OR")
        await others.filter(taken).delete()
        await User.filter(id=self.admin.id).update(**self.original)
        for name in ("alice", "bob"):
            if not await User.exists(username_key=name):
                await User.filter(Q(email=f"{name}@example.com")).delete()
                async with self.app.app_context():
                    from app.chat import service as chat

                    await chat.welcome(await make_user(name))
        async with self.app.app_context():
            from app.chat import service as chat

            lounge = await Conversation.get_or_none(name_key="lounge")
            if lounge is None:
                await chat.create_room(self.admin, "lounge", "A closed room", is_open=False, member_names=["alice"])
            elif lounge.created_by_id != self.admin.id or not await chat.membership(self.admin, lounge.id):
                await Conversation.filter(id=lounge.id).update(created_by_id=self.admin.id)
                await Membership.get_or_create(user_id=self.admin.id, conversation_id=lounge.id)
        await self.signed_in()
        self.world = World(
            users=await User.all().limit(20).values_list("id", flat=True),
            conversations=await Conversation.all().limit(20).values_list("id", flat=True),
            messages=await Message.all().limit(20).values_list("id", flat=True),
            feedback=await Feedback.all().limit(20).values_list("id", flat=True),
            invitations=await Invitation.all().limit(20).values_list("id", flat=True),
            sessions=await UserSession.filter(user_id=self.admin.id).limit(20).values_list("id", flat=True),
        )

    async def signed_in(self) -> None:
        """The browser and the token are the administrator's (again, if an example ended them)."""
        if not self.web_session or not await UserSession.exists(id=self.web_session):
            self.browser = self.app.test_client()
            self.csrf = await self.page_token(self.browser)
            response = await self.browser.post("/login", form={"username": "admin", "password": PASSWORD,
                                                                "csrf_token": self.csrf})
            assert response.status_code == 303, await response.get_data(as_text=True)
            self.web_session = await UserSession.filter(user_id=self.admin.id, kind="web").order_by("-id") \
                .first().values_list("id", flat=True)
            self.csrf = await self.page_token(self.browser)
        if not self.api_session or not await UserSession.exists(id=self.api_session):
            response = await self.app.test_client().post("/api/v1/login",
                                                         json={"username": "admin", "password": PASSWORD})
            assert response.status_code == 200, await response.get_data(as_text=True)
            self.token = (await response.get_json())["data"]["token"]
            self.api_session = await UserSession.filter(user_id=self.admin.id, kind="api").order_by("-id") \
                .first().values_list("id", flat=True)

    @staticmethod
    async def page_token(browser) -> str:
        page = await browser.get("/password/forgot")
        return TOKEN_RE.search(await page.get_data(as_text=True)).group(1)


class Capture(logging.Handler):
    def __init__(self, into: list) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


def database_url(kind: str, folder, migrated_db):
    """The site's database, migrated, and what drops it afterwards."""
    if kind == "sqlite":
        shutil.copy(migrated_db, folder / "huddle.db")
        return f"sqlite://{folder / 'huddle.db'}", None
    scratch = scratch_database()
    return next(scratch), scratch


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzzed(request, tmp_path_factory, migrated_db):
    from app.__main__ import migrate

    folder = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    url, scratch = database_url(request.param, folder, migrated_db)
    loop = asyncio.new_event_loop()
    # Tortoise keeps each table's INSERT, built for the first database it met, by connection name
    # ("default" for both): this module meets two dialects, and the tests after it meet SQLite.
    EXECUTOR_CACHE.clear()
    try:
        if scratch is not None:
            loop.run_until_complete(migrate(Settings(data_dir=folder, database_url=url)))
        settings_ = Settings(
            data_dir=folder, database_url=url, secret_key="fuzz", base_url="http://localhost",
            argon2_memory_kib=ARGON2_MEMORY_KIB, registration="open",
            # Generous limits: the fuzzing must reach the code behind them, not the 429.
            posts_per_10_seconds=100_000, login_failures_per_user=100_000, login_failures_per_ip=100_000,
            registrations_per_address_per_hour=100_000, sessions_per_user=1000,
            live_sockets_per_session=1000, live_sockets_per_user=1000,
        )
        app = create_app(settings_)
        site = Fuzzed(app, loop)
        handler = Capture(site.errors)
        loggers = [logging.getLogger(name) for name in ("huddle", "quart.app")]
        for logger in loggers:
            logger.addHandler(handler)
        context = app.test_app()
        loop.run_until_complete(context.__aenter__())
        try:
            site.run(site.populate())
            site.run(site.restore())
            assert site.logged() == []
            yield site
        finally:
            loop.run_until_complete(context.__aexit__(None, None, None))
            for logger in loggers:
                logger.removeHandler(handler)
    finally:
        loop.close()
        EXECUTOR_CACHE.clear()
        if scratch is not None:
            next(scratch, None)


@pytest.fixture(autouse=True)
def fresh_log(request):
    """Each test sees only what it logged itself."""
    if "fuzzed" in request.fixturenames:
        request.getfixturevalue("fuzzed").errors.clear()


# --- every route ------------------------------------------------------------------------------------

def every_route() -> list:
    app = create_app(Settings(secret_key="x", base_url="http://localhost", database_url="sqlite://:memory:"))
    return sorted(("WS" if rule.websocket else method, rule.rule) for rule in app.url_map.iter_rules()
                  for method in rule.methods - {"HEAD", "OPTIONS"})


ROUTES = [route for route in every_route() if route[0] != "WS"]
SOCKETS = {route[1] for route in every_route() if route[0] == "WS"}
SEGMENT = re.compile(r"<(?:(\w+):)?(\w+)>")
# Where a signed-in browser is sent away at once: these are tried as a visitor.
VISITOR_ONLY = {"/login", "/register"}


def path_value(draw, converter: str | None, name: str, world: World) -> str:
    if converter == "int":
        good = world.good(name).map(str)
        return draw(st.one_of(good, good, st.sampled_from(NUMBERS).map(str), st.integers().map(str), TEXT))
    good = st.sampled_from(["alice", "admin", "css/huddle.css", "no-such-token"])
    return draw(st.one_of(good, TEXT))


def build(route, path: str, query: dict, body: dict | None, *, other=None, htmx: bool = False) -> tuple:
    """The request as sent: JSON under /api/, else a form (its CSRF token is filled in by send)."""
    method, rule = route
    if query:
        path += "?" + encoded(query)
    headers, data = {"HX-Request": "true"} if htmx else {}, None
    if rule.startswith("/api/"):
        if method != "GET" and (body is not None or other is not None):
            data = json.dumps(body if body is not None else other).encode()
            headers["Content-Type"] = "application/json"
    elif method != "GET":
        data = (encoded(body or {}) + "&csrf_token=").encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return method, path, headers, data


@st.composite
def requests(draw, route, world: World):
    method, rule = route
    path = SEGMENT.sub(lambda m: quote(path_value(draw, m.group(1), m.group(2), world), safe="",
                                       errors="surrogatepass"), rule)
    query = fields(draw, QUERY, world, st.one_of(TEXT, NUMBER))
    body, other = None, None
    if rule.startswith("/api/"):
        shape = draw(st.sampled_from(["object", "object", "object", "other", "none"]))
        if shape == "object":
            body = fields(draw, JSON_FIELDS, world, JSON_VALUE)
        elif shape == "other":
            other = draw(JSON_VALUE)
    else:
        body = fields(draw, FORM, world, TEXT)
    return build(route, path, query, body, other=other, htmx=draw(st.booleans()))


# The sweep, tried before the random examples: every text a door reads at once at one of these,
# then every number at one of these, the rest good (so each reaches the code behind the others).
SWEEP_TEXT = ["a\x00b", "a\ud800b", "x" * 9000, "\u202e😀\x01\u0627٣²"]
SWEEP_NUMBER = [2**31, 2**63, -1, 1.5, True, "²"]
IDS = {"conversation_id", "message_id", "id", "ConversationId", "MessageId"}
NUMERIC = IDS | {"seq", "before", "after", "limit", "days", "in"}
SWEEP = [(text, None) for text in SWEEP_TEXT] + [(None, number) for number in SWEEP_NUMBER]


def swept(name: str, world: World, text, number):
    """A field's value in the sweep."""
    if text is not None and name not in IDS:
        return {text: 0} if name == "conversations" else [text] if name == "usernames" else text
    if number is not None and name in NUMERIC:
        return number
    if number is not None and name == "conversations":
        return {str(world.first("conversation_id")): number}
    return world.first(name)


def sweep(route, world: World) -> list[tuple]:
    found = []
    for text, number in SWEEP:
        def segment(match, text=text, number=number) -> str:
            converter, name = match.group(1), match.group(2)
            if converter == "int":
                value = str(world.first(name) if number is None else number)
            else:
                value = text if text is not None else {"username": "alice", "filename": "css/huddle.css"}.get(name, "x")
            return quote(value, safe="", errors="surrogatepass")

        path = SEGMENT.sub(segment, route[1])
        names = JSON_FIELDS if route[1].startswith("/api/") else FORM
        found.append(build(route, path, {name: swept(name, world, text, number) for name in QUERY},
                           {name: swept(name, world, text, number) for name in names}))
    return found


@pytest.mark.parametrize("route", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_no_input_to_any_route_gets_a_server_error(fuzzed, route):
    fuzzed.run(fuzzed.restore())
    world = fuzzed.world

    @FUZZ
    @given(request=requests(route, world))
    def check(request):
        method, path, headers, body = request
        status, text = fuzzed.run(send(fuzzed, route, method, path, headers, body))
        assert status < 500, f"{method} {path[:300]!r}: {status}\n{text[:2000]}"
        assert fuzzed.logged() == [], f"{method} {path[:300]!r} {(body or b'')[:300]!r} logged an error"

    for request in sweep(route, world):
        check = example(request=request)(check)
    check()


async def send(site: Fuzzed, route, method: str, path: str, headers: dict, body: bytes | None) -> tuple[int, str]:
    await site.signed_in()
    if route[1].startswith("/api/"):
        client = site.app.test_client()
        headers = {**headers, "Authorization": f"Bearer {site.token}"}
    elif route[1] in VISITOR_ONLY:
        client = site.app.test_client()
        token = await site.page_token(client)
        body = body.replace(b"csrf_token=", f"csrf_token={token}".encode()) if body is not None else None
    else:
        client = site.browser
        body = body.replace(b"csrf_token=", f"csrf_token={site.csrf}".encode()) if body is not None else None
    response = await client.open(path, method=method, headers=headers, data=body or b"")
    return response.status_code, await response.get_data(as_text=True)


# --- every socket action -------------------------------------------------------------------------------

async def frames_until(socket, wanted, timeout: float = 5.0) -> list[str]:
    """Frames received until one for which wanted(frame) holds; each must be text UTF-8 carries."""
    got = []
    async with asyncio.timeout(timeout):
        while True:
            frame = await socket.receive()
            text = frame if isinstance(frame, str) else frame.decode()
            text.encode("utf-8")  # a lone surrogate here would end the socket on a real server
            got.append(text)
            if wanted(text):
                return got


def answers(action: str):
    def wanted(text: str) -> bool:
        try:
            frame = json.loads(text)
        except ValueError:
            return False
        return isinstance(frame, dict) and frame.get("action") == action
    return wanted


@st.composite
def ws_frames(draw, action: str, world: World):
    if draw(st.integers(0, 9)) == 0:  # now and then, data that is not an object at all
        return json.dumps({"action": action, "data": draw(JSON_VALUE)})
    return json.dumps({"action": action, "data": fields(draw, WS_FIELDS, world, JSON_VALUE)})


@pytest.mark.parametrize("action", WS_ACTIONS)
def test_no_data_to_any_json_websocket_action_gets_a_server_error_or_ends_the_socket(fuzzed, action):
    assert "/api/v1/ws" in SOCKETS
    fuzzed.run(fuzzed.restore())

    @FUZZ
    @given(frame=ws_frames(action, fuzzed.world))
    def check(frame):
        fuzzed.run(json_socket(fuzzed, action, frame))
        assert fuzzed.logged() == [], f"{frame[:300]!r} logged an error"

    for text, number in SWEEP:
        data = {name: swept(name, fuzzed.world, text, number) for name in WS_FIELDS}
        check = example(frame=json.dumps({"action": action, "data": data}))(check)
    check()


async def json_socket(site: Fuzzed, action: str, frame: str) -> None:
    from quart.testing.connections import WebsocketDisconnectError

    await site.signed_in()
    async with site.app.test_client().websocket("/api/v1/ws") as socket:
        if action not in OPEN_ACTIONS:
            await socket.send(json.dumps({"action": "auth", "data": {"token": site.token}}))
            await frames_until(socket, answers("auth"))
        await socket.send(frame)
        if len(frame.encode("utf-8", "surrogatepass")) > MAX_FRAME:
            with pytest.raises(WebsocketDisconnectError, match="1009"):  # too big: closed, as it says
                await frames_until(socket, answers(action))
            return
        got = await frames_until(socket, answers(action))
        assert "unexpected error" not in got[-1], f"{frame!r}: {got[-1]}"
        # Still there, and still answering.
        await socket.send(json.dumps({"action": "me", "data": {}}))
        try:
            await frames_until(socket, answers("me"))
        except WebsocketDisconnectError as closed:  # logging out ends the socket, as it should
            assert action == "logout", f"{frame!r} ended the socket ({closed})"


@st.composite
def messenger_frames(draw, world: World):
    first = draw(st.one_of(st.just("TOKEN"), st.just("Bearer TOKEN"), TEXT))
    then = draw(st.lists(st.one_of(
        st.builds(lambda conv: json.dumps({"Message": "Typing", "ConvId": conv}),
                  st.one_of(world.good("conversation_id"), JSON_VALUE)),
        st.builds(lambda frame: json.dumps(frame), JSON_VALUE),
        TEXT.filter(lambda text: len(text) < 10_000).map(lambda text: text.encode("utf-8", "surrogatepass")
                                                             .decode("utf-8", "replace")),
    ), max_size=3))
    return first, then


def test_no_frame_to_the_messenger_socket_gets_a_server_error_or_ends_it(fuzzed):
    assert "/api/messenger/websocket" in SOCKETS
    fuzzed.run(fuzzed.restore())

    @FUZZ
    @given(frames=messenger_frames(fuzzed.world))
    def check(frames):
        fuzzed.run(messenger_socket(fuzzed, *frames))
        assert fuzzed.logged() == [], f"{frames!r} logged an error"

    for value in [*SWEEP_TEXT, *SWEEP_NUMBER]:
        check = example(frames=("TOKEN", [json.dumps({"Message": "Typing", "ConvId": value})]))(check)
        if isinstance(value, str):
            check = example(frames=(value, []))(check)
    check()


async def messenger_socket(site: Fuzzed, first: str, then: list[str]) -> None:
    from app.chat import service as chat

    await site.signed_in()
    async with site.app.test_client().websocket("/api/messenger/websocket") as socket:
        await frames_until(socket, lambda text: "Websocket Open" in text)
        await socket.send(first.replace("TOKEN", site.token))
        if "TOKEN" not in first:
            return
        await frames_until(socket, lambda text: "Websocket Authenticated" in text)
        for frame in then:
            await socket.send(frame)
        # Still there: a new message in #general reaches it.
        async with site.app.app_context():
            await chat.post(site.admin, await chat.general(), "still there?")
        await frames_until(socket, lambda text: "still there?" in text)


@st.composite
def page_frames(draw, world: World):
    conversation = st.one_of(world.good("conversation_id"), JSON_VALUE)
    people = st.one_of(st.lists(st.one_of(world.good("id"), SCALAR), max_size=4), JSON_VALUE)
    hello = st.builds(lambda c, a, p, n: {"type": "hello", "conversation": c, "after": a, "presence": p, "names": n},
                      conversation, st.one_of(world.good("seq"), JSON_VALUE), people, people)
    typing = st.builds(lambda c, s: {"type": "typing", "conversation": c, "state": s},
                       conversation, st.one_of(st.sampled_from(["start", "stop"]), JSON_VALUE))
    viewing = st.builds(lambda c, v: {"type": "viewing", "conversation": c, "visible": v},
                        conversation, st.one_of(st.booleans(), JSON_VALUE))
    thread = st.builds(lambda c, a: {"type": "thread", "conversation": c, "after": a},  # a thread's panel
                       st.one_of(st.none(), conversation), st.one_of(world.good("seq"), JSON_VALUE))
    frame = draw(st.one_of(hello, typing, viewing, thread, JSON_VALUE))
    return json.dumps(frame)


def test_no_hello_or_typing_on_the_page_socket_gets_a_server_error(fuzzed):
    assert "/live" in SOCKETS
    fuzzed.run(fuzzed.restore())

    @FUZZ
    @given(frame=page_frames(fuzzed.world))
    def check(frame):
        fuzzed.run(page_socket(fuzzed, frame))
        assert fuzzed.logged() == [], f"{frame[:300]!r} logged an error"

    conversation = fuzzed.world.first("conversation_id")
    for value in [*SWEEP_TEXT, *SWEEP_NUMBER]:
        for frame in [{"type": "hello", "conversation": value, "after": value, "presence": [value], "names": [value]},
                      {"type": "hello", "conversation": conversation, "after": value, "presence": value,
                       "names": value},
                      {"type": "typing", "conversation": value, "state": value},
                      {"type": "typing", "conversation": conversation, "state": value},
                      {"type": "viewing", "conversation": value, "visible": True},
                      {"type": "viewing", "conversation": conversation, "visible": value},
                      {"type": "thread", "conversation": value, "after": value},
                      {"type": "thread", "conversation": conversation, "after": value},
                      {"type": "hello", "presence": [], "thread": value, "thread_after": value}]:
            check = example(frame=json.dumps(frame))(check)
    check()


async def page_socket(site: Fuzzed, frame: str) -> None:
    from quart.testing.connections import WebsocketDisconnectError

    await site.signed_in()
    async with site.browser.websocket("/live", headers={"Origin": "http://localhost"}) as socket:
        await socket.send(frame)
        await socket.send(json.dumps({"type": "hello", "presence": []}))
        try:
            await frames_until(socket, lambda text: "data-snapshot" in text)
        except WebsocketDisconnectError as closed:
            # A hello too far behind its conversation is told to reload, and closed (1000).
            assert closed.args[0] == 1000, f"{frame!r} closed the page socket ({closed})"


# --- the findings it started from ----------------------------------------------------------------------

def test_the_fuzzing_covers_every_route_and_every_socket():
    assert len(ROUTES) > 80 and SOCKETS == {"/live", "/api/v1/ws", "/api/messenger/websocket"}
    assert {"send", "edit", "history", "subscribe", "details", "typing", "read"} <= set(WS_ACTIONS)
    assert IdConverter.regex == r"[0-9]{1,19}"  # the int segments hypothesis fills


DOORS = ["accounts/routes.py", "accounts/password_routes.py", "chat/routes.py", "chat/rooms.py", "admin/routes.py",
         "chat/thread_routes.py",
         "feedback/routes.py", "home.py", "api/rest.py", "api/ws.py", "api/ws_chat.py", "api/messenger.py",
         "api/messenger_socket.py", "live/socket.py",
         "search/routes.py", "chat/people_routes.py", "chat/level_routes.py", "chat/mention_routes.py",
         "api/push.py", "chat/reaction_routes.py", "links/routes.py", "api/rest_links.py"]
READS = re.compile(r'(?:args|form|data|message)\.get(?:list)?\(\s*"(\w+)"'
                   r'|(?:text_of|id_of|cursor_of|text|number)\(data, "(\w+)"|data\["(\w+)"\]')
# Read from the frame itself, or from what the broker delivers: the socket tests build these.
FRAME_NAMES = {"action", "data", "type", "conversation", "presence", "names", "ConvId", "user_id", "visible",
               "thread", "thread_after"}


def test_the_fuzzing_sends_every_field_a_door_reads():
    """A field a door starts reading must be thrown at too: add it to FORM, QUERY, JSON_FIELDS
    or WS_FIELDS (and a good value to GOOD)."""
    from app.api import schemas
    from app.config import ROOT

    read = {name for door in DOORS for match in READS.finditer((ROOT / "app" / door).read_text())
            for name in match.groups() if name}
    read |= {name for model in vars(schemas).values() if isinstance(model, type)
             and issubclass(model, (schemas.Request, schemas.MessagesQuery)) for name in model.model_fields}
    assert read - set(FORM) - set(QUERY) - set(JSON_FIELDS) - set(WS_FIELDS) - FRAME_NAMES == set()


NUL = "a\x00b"


def form_post(site: Fuzzed, path: str, form: dict, *, htmx: bool = False, visitor: bool = False):
    async def go():
        await site.signed_in()
        client, token = site.browser, site.csrf
        if visitor:
            client = site.app.test_client()
            token = await site.page_token(client)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **({"HX-Request": "true"} if htmx else {})}
        response = await client.post(path, data=f"{encoded(form)}&csrf_token={token}".encode(), headers=headers)
        return response.status_code, await response.get_data(as_text=True)
    return site.run(go())


def api(site: Fuzzed, method: str, path: str, body: str | None = None, *, signed_in: bool = True):
    async def go():
        await site.signed_in()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if signed_in:
            headers["Authorization"] = f"Bearer {site.token}"
        response = await site.app.test_client().open(path, method=method, headers=headers,
                                                      data=(body or "").encode())
        return response.status_code, await response.get_data(as_text=True)
    return site.run(go())


def get(site: Fuzzed, path: str):
    async def go():
        await site.signed_in()
        response = await site.browser.get(path)
        return response.status_code, await response.get_data(as_text=True)
    return site.run(go())


def general_id(site: Fuzzed) -> int:
    return site.run(Conversation.get(name_key="general")).id


def nul_forms(site: Fuzzed) -> list:
    """(what, path, form, visitor, what the page says): each text a NUL must not reach the database in."""
    site.run(site.restore())
    conversation, lounge = general_id(site), site.run(Conversation.get(name_key="lounge")).id
    good = {"username": "carol", "email": "carol@example.com", "password": PASSWORD, "confirm_password": PASSWORD}
    said, unknown = "Remove the NUL character", "There is no user called a\\0b"
    return [
        ("login name", "/login", {"username": NUL, "password": PASSWORD}, True, said),
        ("login address", "/login", {"username": "a\x00@example.com", "password": PASSWORD}, True, said),
        ("registration", "/register", {**good, "username": NUL}, True, said),
        ("registration address", "/register", {**good, "email": f"{NUL}@example.com"}, True, said),
        ("message", f"/chat/{conversation}/messages", {"body": NUL}, False, said),
        ("room topic", "/chat/rooms/new", {"name": "nulls", "topic": NUL}, False, said),
        ("room name", "/chat/rooms/new", {"name": NUL, "topic": ""}, False, said),
        ("room rename", f"/chat/{lounge}/settings", {"name": NUL, "topic": "", "open": "closed"}, False, said),
        ("room topic change", f"/chat/{lounge}/settings", {"name": "lounge", "topic": NUL, "open": "closed"}, False,
         said),
        ("first message", "/chat/new", {"usernames": "alice", "body": NUL}, False, said),
        ("recipient", "/chat/new", {"usernames": NUL, "body": "hi"}, False, unknown),
        ("room member", f"/chat/{lounge}/members", {"username": NUL}, False, unknown),
        ("feedback", "/users/admin/feedback/add", {"title": NUL, "content": NUL}, False, said),
        ("invitation", "/admin/invitations", {"kind": "single", "days": "7", "email": f"{NUL}@example.com"},
         False, said),
        ("new user", "/admin/users", {**good, "email": f"{NUL}@example.com"}, False, said),
        ("password", "/account/password", {"current_password": PASSWORD, "password": NUL * 9,
                                           "confirm_password": NUL * 9}, False, said),
    ]


def test_a_nul_in_any_form_is_refused_beside_its_field(fuzzed):
    """PostgreSQL refuses NUL in text: each of these was a 500 there (SQLite kept it)."""
    for what, path, form, visitor, said in nul_forms(fuzzed):
        for htmx in (False, True):
            status, html = form_post(fuzzed, path, form, htmx=htmx, visitor=visitor)
            assert (status, said in html) == (422, True), f"{what} (htmx={htmx}): {status} {excerpt(html)}"
    assert fuzzed.logged() == []


@pytest.mark.parametrize("path", ["/users/a%00b", "/chat/with/a%00b", "/users/a%00b/feedback/add",
                                  "/admin/feedback?user=a%00b"])
def test_a_nul_in_a_username_in_the_address_is_not_found(fuzzed, path):
    status, _ = get(fuzzed, path)
    assert status == 404
    assert fuzzed.logged() == []


@pytest.mark.parametrize("path", ["/api/v1/users/a%00b", "/api/messenger/user/a%00b"])
def test_a_nul_in_a_username_in_an_api_address_is_not_found(fuzzed, path):
    status, body = api(fuzzed, "GET", path)
    assert status == 404 and "There is no user called a\\\\0b" in body
    assert fuzzed.logged() == []


# Each door's text fields, as JSON: NUL and a lone surrogate ("\ud800" in JSON) alike.
JSON_DOORS = [
    ("POST", "/api/v1/conversations/{general}/messages", "text", '{{"text": {value}}}'),
    ("POST", "/api/v1/conversations", "usernames.0", '{{"usernames": [{value}]}}'),
    ("POST", "/api/v1/conversations", "room", '{{"room": {value}}}'),
    ("POST", "/api/v1/login", "username", '{{"username": {value}, "password": "x"}}'),
    ("POST", "/api/messenger/message", "Message", '{{"ConversationId": {general}, "Message": {value}}}'),
    ("POST", "/api/messenger/conversation", "Recipient", '{{"Recipient": {value}}}'),
    ("POST", "/api/messenger/user/login", "Username", '{{"Username": {value}, "Password": "x"}}'),
    ("POST", "/api/messenger/user", "Username", '{{"Username": {value}, "Password": "x"}}'),
]


@pytest.mark.parametrize("value", ['"a\\u0000b"', '"a\\ud800b"', '"\\udfff"'], ids=["nul", "surrogate", "low"])
@pytest.mark.parametrize("method, path, name, template", JSON_DOORS, ids=[f"{d[1]} {d[2]}" for d in JSON_DOORS])
def test_nul_and_lone_surrogates_in_json_are_refused_naming_the_field(fuzzed, method, path, name, template, value):
    general = general_id(fuzzed)
    status, body = api(fuzzed, method, path.format(general=general), template.format(value=value, general=general))
    assert 400 <= status < 500, f"{status}: {body}"
    body.encode("utf-8")
    assert fuzzed.logged() == []


@pytest.mark.parametrize("token", ["a\x00b", "a\ud800b", "\udfff" * 40])
def test_a_token_of_any_text_names_nothing(fuzzed, token):
    """Invitation, reset and session tokens are looked up by their hash: a lone surrogate (from
    JSON) could not even be hashed."""
    from app.api import tokens
    from app.models import PasswordResetToken

    async def go():
        async with fuzzed.app.app_context():
            return [await Invitation.valid(token), await PasswordResetToken.find(token),
                    await UserSession.from_token(token, idle=60, max_age=60), await tokens.resolve(token)]

    assert fuzzed.run(go()) == [None, None, None, None]


@pytest.mark.parametrize("value", ['"a\\u0000b"', '"a\\ud800b"'], ids=["nul", "surrogate"])
def test_the_message_refusal_names_the_field_on_every_json_door(fuzzed, value):
    general = general_id(fuzzed)
    status, body = api(fuzzed, "POST", f"/api/v1/conversations/{general}/messages", f'{{"text": {value}}}')
    assert status == 422 and ('"text"' in body or '"body"' in body)
    status, body = api(fuzzed, "POST", "/api/messenger/message", f'{{"ConversationId": {general}, "Message": {value}}}')
    assert status == 422 and ("NUL" in body or "surrogate" in body)


@pytest.mark.parametrize("value", ['"a\\u0000b"', '"a\\ud800b"'], ids=["nul", "surrogate"])
def test_the_json_websocket_refuses_bad_text_and_keeps_answering(fuzzed, value):
    async def go():
        general = (await Conversation.get(name_key="general")).id
        async with fuzzed.app.test_client().websocket("/api/v1/ws") as socket:
            await socket.send(json.dumps({"action": "auth", "data": {"token": fuzzed.token}}))
            await frames_until(socket, answers("auth"))
            answered = {}
            for action, data, echo in [
                ("send", f'{{"conversation_id": {general}, "text": {value}}}', "send"),
                ("details", f'{{"username": {value}}}', "details"),
                (value.strip('"'), "{}", quotable(json.loads(value))),  # an action named so
            ]:
                await socket.send(f'{{"action": "{action}", "data": {data}}}')
                got = await frames_until(socket, answers(echo))
                answered[echo] = json.loads(got[-1])
            await socket.send(json.dumps({"action": "me", "data": {}}))
            await frames_until(socket, answers("me"))
            return answered

    fuzzed.run(fuzzed.restore())
    answered = fuzzed.run(go())
    assert answered["send"]["fields"].keys() == {"body"} and "error" in answered["send"]
    assert "There is no user called" in answered["details"]["error"]
    assert len(answered) == 3 and all("error" in each for each in answered.values())
    assert fuzzed.logged() == []


@pytest.mark.parametrize("path", ["/?after=" + "a" * 31, "/?after=" + "z" * 61, "/?after=a%00b",
                                  "/admin/users?after=" + "a" * 40, "/admin/users?after=a%00b"])
def test_a_name_cursor_that_cannot_be_valid_is_ignored(fuzzed, path):
    """?after= longer than a username (30) was a 500 (Tortoise checks the column's length):
    ignored now, like a bad ?before=."""
    fuzzed.run(fuzzed.restore())
    status, html = get(fuzzed, path)
    assert status == 200 and "alice" in html
    assert fuzzed.logged() == []


BIG = [2**31, 2**32, 2**62, 2**63 - 1]


@pytest.mark.parametrize("number", BIG)
def test_ids_and_cursors_past_32_bits_are_refused_or_ignored(fuzzed, number):
    """The columns of record ids are 32-bit, event numbers 64-bit: on PostgreSQL a bigger number
    in a query was a 500."""
    general = general_id(fuzzed)
    for path in [f"/chat/{number}", f"/chat/{general}/messages/{number}", f"/chat/{general}/messages?before={number}",
                 f"/chat/messages/{number}", f"/admin/users/{number}/edit", f"/admin/audit?before={number}",
                 f"/admin/feedback?before={number}", f"/account/sessions?before={number}",
                 f"/feedback/{number}/update"]:
        status, _ = get(fuzzed, path)
        assert status in (200, 404), path
    for method, path, body in [
        ("GET", f"/api/v1/conversations/{number}", None),
        ("GET", f"/api/v1/conversations/{general}/messages?before={number}", None),
        ("GET", f"/api/v1/conversations/{general}/messages?after={number}", None),
        ("POST", f"/api/v1/conversations/{general}/read", json.dumps({"seq": number})),
        ("PATCH", f"/api/v1/messages/{number}", '{"text": "x"}'),
        ("GET", f"/api/messenger/message/{number}", None),
        ("POST", "/api/messenger/message", json.dumps({"ConversationId": number, "Message": "x"})),
        ("PUT", "/api/messenger/message", json.dumps({"MessageId": str(number), "Message": "x"})),
    ]:
        status, body = api(fuzzed, method, path, body)
        assert status in (200, 404, 422), f"{method} {path}: {status} {body}"
    assert fuzzed.logged() == []


@pytest.mark.parametrize("name", ["x" * 300, "a/" * 3000, "a%00b"])
def test_a_static_name_the_file_system_cannot_look_up_is_not_found(fuzzed, name):
    """A name longer than a file name may be was an OSError (ENAMETOOLONG), a 500."""
    status, _ = get(fuzzed, f"/static/{name}")
    assert status == 404
    assert fuzzed.logged() == []


@pytest.mark.parametrize("number", [2**31, 2**63 - 1])
def test_a_hello_naming_a_conversation_past_32_bits_still_gets_its_answer(fuzzed, number):
    """A conversation id up to 2^63 passed the page socket's check; on PostgreSQL its lookup
    failed, which ended the socket's reading without a word: the page waited forever."""
    hello = json.dumps({"type": "hello", "conversation": number, "after": number, "presence": [number]})
    fuzzed.run(page_socket(fuzzed, hello))
    assert fuzzed.logged() == []


def excerpt(html: str) -> str:
    at = html.find('name="username"')
    return html[max(0, at - 300):at + 600]
