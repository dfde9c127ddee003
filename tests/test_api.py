"""The REST API under /api/v1: every endpoint with good input, each kind of bad input, the wrong
user, an administrator and nobody; tokens and their lifecycle; JSON errors for everything."""
from __future__ import annotations

import time

import jwt
import pytest

from app.api import operations
from app.chat import service as chat
from app.models import Conversation, Message, User, UserSession
from app.runtime import Runtime
from tests.helpers import PASSWORD
from tests.helpers.api import Api, api_login
from tests.helpers.live import live, receive_until


@pytest.fixture
async def apis(app, general):
    """Tokens for admin, alice and bob (all three in #general)."""
    return {name: await api_login(app, name) for name in ("admin", "alice", "bob")}


@pytest.fixture
def nobody(app) -> Api:
    return Api(app)


# --- registering and logging in ---------------------------------------------------------------------

async def test_registering_makes_an_account_in_general_and_a_working_token(app, nobody, general):
    status, body, _ = await nobody.post("/api/v1/users", {"username": "carol", "email": "carol@example.com",
                                                           "password": PASSWORD})
    assert status == 201
    assert body["data"]["user"]["username"] == "carol" and body["data"]["user"]["is_admin"] is False
    carol = Api(app, body["data"]["token"])
    status, me, _ = await carol.get("/api/v1/me")
    assert status == 200 and me["data"]["email"] == "carol@example.com"
    _, mine, _ = await carol.get("/api/v1/conversations")
    assert [c["name"] for c in mine["data"]] == ["general"]


@pytest.mark.parametrize("body, field", [
    ({"email": "c@example.com", "password": PASSWORD}, "username"),
    ({"username": "carol", "password": PASSWORD}, "email"),
    ({"username": "carol", "email": "c@example.com"}, "password"),
    ({"username": "c", "email": "c@example.com", "password": PASSWORD}, "username"),
    ({"username": "car ol", "email": "c@example.com", "password": PASSWORD}, "username"),
    ({"username": "alice", "email": "c@example.com", "password": PASSWORD}, "username"),
    ({"username": "ＡＬＩＣＥ", "email": "c@example.com", "password": PASSWORD}, "username"),
    ({"username": "carol", "email": "alice@example.com", "password": PASSWORD}, "email"),
    ({"username": "carol", "email": "not-an-address", "password": PASSWORD}, "email"),
    ({"username": "carol", "email": "c@example.com", "password": "short"}, "password"),
    ({"username": 5, "email": "c@example.com", "password": PASSWORD}, "username"),
    ({"username": "carol", "email": "c@example.com", "password": "x" * 5000}, "password"),
])
async def test_registering_with_bad_values_says_which_and_makes_nothing(nobody, alice, body, field):
    before = await User.all().count()
    status, answer, _ = await nobody.post("/api/v1/users", body)
    assert status == 422
    assert answer["error"]["code"] == "invalid" and field in answer["error"]["fields"]
    assert await User.all().count() == before


async def test_registrations_from_one_network_are_limited_with_retry_after(app, nobody):
    app.config["HUDDLE"].registrations_per_address_per_hour = 2
    from app.web.throttle import MemoryLimiter

    Runtime.of(app).limiters.register_ip = MemoryLimiter(2, 3600)
    for n in range(2):
        status, _, _ = await nobody.post("/api/v1/users", {"username": f"user{n}", "email": f"u{n}@example.com",
                                                           "password": PASSWORD})
        assert status == 201
    status, body, response = await nobody.post("/api/v1/users", {"username": "user9", "email": "u9@example.com",
                                                                 "password": PASSWORD})
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0
    assert not await User.exists(username="user9")


async def test_logging_in_gives_a_token_named_api_token_on_the_sessions_page(app, sign_in, alice):
    api = await api_login(app, "alice")
    assert (await api.get("/api/v1/me"))[1]["data"]["username"] == "alice"
    row = await UserSession.get(user_id=alice.id, kind="api")
    browser = await sign_in("alice")
    page = await (await browser.get("/account/sessions")).get_data(as_text=True)
    assert "API token" in page and f"/account/sessions/{row.id}/delete" in page


@pytest.mark.parametrize("body", [
    {"username": "alice", "password": "wrong password!"},
    {"username": "nobody-here", "password": PASSWORD},
])
async def test_a_failed_login_says_the_same_whichever_part_was_wrong(nobody, alice, body):
    status, answer, _ = await nobody.post("/api/v1/login", body)
    assert status == 422
    assert answer["error"]["fields"] == {"form": "That username and password do not match an account."}
    assert not await UserSession.exists(user_id=alice.id)


@pytest.mark.parametrize("body", [{}, {"username": "alice"}, {"password": PASSWORD}, {"username": "", "password": ""},
                                  {"username": ["alice"], "password": PASSWORD}])
async def test_a_login_missing_values_is_refused_field_by_field(nobody, alice, body):
    status, answer, _ = await nobody.post("/api/v1/login", body)
    assert status == 422 and answer["error"]["fields"]


async def test_login_guessing_is_limited_like_the_login_page(nobody, alice, client):
    for _ in range(5):
        assert (await nobody.post("/api/v1/login", {"username": "alice", "password": "wrong password!"}))[0] == 422
    status, answer, response = await nobody.post("/api/v1/login", {"username": "alice", "password": PASSWORD})
    assert status == 429 and int(response.headers["Retry-After"]) > 0
    # One limit for both doors: the login page refuses this address for alice too.
    page = await client.post("/login", {"username": "alice", "password": PASSWORD})
    assert page.status_code == 429


# --- tokens -----------------------------------------------------------------------------------------

async def test_a_browsers_cookie_never_authenticates_the_api(app, client, alice):
    await client.login("alice")
    response = await client.get("/api/v1/me")
    assert response.status_code == 401 and (await response.get_json())["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_the_api_needs_no_csrf_token_and_sets_no_cookie(app, apis):
    status, _, response = await apis["alice"].post("/api/v1/conversations/1/messages", {"text": "from a script"})
    assert status == 201
    assert "Set-Cookie" not in response.headers


def forged(app, claims: dict, key: bytes = b"not the key, but just as long as one") -> str:
    return jwt.encode(claims, key, algorithm="HS256")


@pytest.mark.parametrize("make", [
    lambda app, good: good[:-2] + ("AA" if not good.endswith("AA") else "BB"),  # altered signature
    lambda app, good: forged(app, jwt.decode(good, options={"verify_signature": False})),  # wrong key
    lambda app, good: jwt.encode(jwt.decode(good, options={"verify_signature": False}), None, algorithm="none"),
    lambda app, good: "not.a.jwt",
    lambda app, good: "",
    lambda app, good: "x" * 5000,
])
async def test_a_forged_or_mangled_token_is_refused(app, apis, make):
    good = apis["alice"].token
    status, body, _ = await Api(app, make(app, good)).get("/api/v1/me")
    assert status == 401 and body["error"]["code"] == "unauthorized"


async def test_an_expired_token_is_refused(app, apis, monkeypatch):
    from app.api import tokens

    claims = jwt.decode(apis["alice"].token, options={"verify_signature": False})
    claims["exp"] = int(time.time()) - 10
    async with app.app_context():
        stale = jwt.encode(claims, tokens._key(), algorithm="HS256")
    assert (await Api(app, stale).get("/api/v1/me"))[0] == 401


async def test_a_browser_session_cannot_be_dressed_up_as_an_api_token(app, alice):
    """A JWT signed with the API key but naming a browser's session (kind web) is refused."""
    from app.api import tokens

    async with app.app_context():
        _, cookie_secret = await UserSession.start(alice, kind="web")
        token = jwt.encode({"iss": "huddle", "sub": str(alice.id), "jti": cookie_secret, "iat": int(time.time()),
                            "exp": int(time.time()) + 60}, tokens._key(), algorithm="HS256")
    assert (await Api(app, token).get("/api/v1/me"))[0] == 401


async def test_logout_revokes_the_token_used_and_only_it(app, apis, alice):
    other = await api_login(app, "alice")
    status, body, _ = await apis["alice"].post("/api/v1/logout")
    assert status == 200 and body["data"] == {"success": True}
    assert (await apis["alice"].get("/api/v1/me"))[0] == 401
    assert (await other.get("/api/v1/me"))[0] == 200


async def test_revoking_a_token_on_the_sessions_page_ends_it_at_once(app, sign_in, apis, alice):
    row = await UserSession.get(user_id=alice.id, kind="api")
    browser = await sign_in("alice")
    response = await browser.post(f"/account/sessions/{row.id}/delete", htmx=True)
    assert response.status_code == 200
    assert (await apis["alice"].get("/api/v1/me"))[0] == 401


async def test_changing_the_password_ends_every_token(app, sign_in, apis, alice):
    browser = await sign_in("alice")
    response = await browser.post("/account/password", {"current_password": PASSWORD, "password": "a new passphrase",
                                                        "confirm_password": "a new passphrase"})
    assert response.status_code in {200, 303}
    assert (await apis["alice"].get("/api/v1/me"))[0] == 401
    assert (await apis["bob"].get("/api/v1/me"))[0] == 200


async def test_deleting_the_account_ends_every_token(app, sign_in, apis, alice):
    admin = await sign_in("admin")
    response = await admin.post(f"/admin/users/{alice.id}/delete")
    assert response.status_code == 303
    assert (await apis["alice"].get("/api/v1/me"))[0] == 401


async def test_only_the_newest_tokens_are_kept(app, alice):
    app.config["HUDDLE"].sessions_per_user = 2
    first, second, third = [await api_login(app, "alice") for _ in range(3)]
    assert (await first.get("/api/v1/me"))[0] == 401
    assert (await second.get("/api/v1/me"))[0] == (await third.get("/api/v1/me"))[0] == 200


# --- people -------------------------------------------------------------------------------------

async def test_a_public_profile_never_shows_the_email(apis, alice):
    status, body, _ = await apis["bob"].get("/api/v1/users/alice")
    assert status == 200
    assert set(body["data"]) == {"id", "username", "display_name", "online", "last_online", "created"}
    assert "alice@example.com" not in str(body)


async def test_a_profile_says_whether_someone_is_online(app, apis, sign_in, alice):
    browser = await sign_in("alice")
    assert (await apis["bob"].get("/api/v1/users/alice"))[1]["data"]["online"] is False
    async with live(browser):
        assert (await apis["bob"].get("/api/v1/users/ALICE"))[1]["data"]["online"] is True


async def test_an_unknown_profile_is_a_json_404(apis):
    status, body, _ = await apis["bob"].get("/api/v1/users/nobody-here")
    assert status == 404 and body["error"]["code"] == "not_found"


# --- conversations ------------------------------------------------------------------------------

async def test_my_conversations_carry_unread_counts(app, apis, general):
    for n in range(3):
        await apis["bob"].post(f"/api/v1/conversations/{general.id}/messages", {"text": f"hello {n}"})
    _, mine, _ = await apis["alice"].get("/api/v1/conversations")
    assert [(c["name"], c["unread"]) for c in mine["data"]] == [("general", 3)]
    _, bobs, _ = await apis["bob"].get("/api/v1/conversations")
    assert bobs["data"][0]["unread"] == 0  # his own


async def test_a_direct_conversation_is_the_same_for_the_same_people(apis, alice, bob):
    status, first, _ = await apis["alice"].post("/api/v1/conversations", {"usernames": ["bob"]})
    assert status == 201 and first["data"]["kind"] == "direct" and first["data"]["members"] == ["alice", "bob"]
    status, again, _ = await apis["bob"].post("/api/v1/conversations", {"usernames": ["alice", "bob"]})
    assert status == 200 and again["data"]["id"] == first["data"]["id"]
    _, admins, _ = await apis["admin"].get(f"/api/v1/conversations/{first['data']['id']}")
    assert admins["error"]["code"] == "not_found"  # administrators do not read others' direct messages


@pytest.mark.parametrize("body, field", [
    ({}, "usernames"), ({"usernames": ["bob"], "room": "x"}, "usernames"), ({"usernames": []}, "usernames"),
    ({"usernames": ["nobody-here"]}, "usernames"), ({"usernames": "bob"}, "usernames"),
    ({"room": ""}, "name"), ({"room": "has space"}, "name"), ({"room": "x" * 41}, "name"),
    ({"usernames": [f"u{n}" for n in range(21)]}, "usernames"),
])
async def test_starting_a_conversation_with_bad_values_says_which(apis, body, field):
    before = await Conversation.all().count()
    status, answer, _ = await apis["alice"].post("/api/v1/conversations", body)
    assert status == 422 and field in answer["error"]["fields"], answer
    assert await Conversation.all().count() == before


async def test_a_room_is_created_then_joined_by_name(apis):
    status, made, _ = await apis["alice"].post("/api/v1/conversations", {"room": "design", "topic": "pixels"})
    assert status == 201 and made["data"]["name"] == "design" and made["data"]["topic"] == "pixels"
    status, joined, _ = await apis["bob"].post("/api/v1/conversations", {"room": "#Design"})
    assert status == 200 and joined["data"]["id"] == made["data"]["id"]
    _, bobs, _ = await apis["bob"].get("/api/v1/conversations")
    assert "design" in [c["name"] for c in bobs["data"]]


async def test_a_closed_room_cannot_be_joined_by_name(app, apis, alice):
    async with app.app_context():
        await chat.create_room(alice, "secret", is_open=False)
    status, answer, _ = await apis["bob"].post("/api/v1/conversations", {"room": "secret"})
    assert status == 422 and "room" in answer["error"]["fields"]


# --- messages -----------------------------------------------------------------------------------

async def post_many(api, conversation_id: int, count: int) -> list[dict]:
    return [(await api.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": f"m{n}"}))[1]["data"]
            for n in range(count)]


async def test_messages_come_newest_first_a_page_at_a_time(apis, general):
    posted = await post_many(apis["alice"], general.id, 7)
    url = f"/api/v1/conversations/{general.id}/messages"
    _, first, _ = await apis["bob"].get(f"{url}?limit=3")
    assert [m["text"] for m in first["data"]["messages"]] == ["m6", "m5", "m4"]
    _, second, _ = await apis["bob"].get(f"{url}?limit=3&before={first['data']['older']}")
    assert [m["text"] for m in second["data"]["messages"]] == ["m3", "m2", "m1"]
    _, last, _ = await apis["bob"].get(f"{url}?limit=3&before={second['data']['older']}")
    assert [m["text"] for m in last["data"]["messages"]] == ["m0"] and last["data"]["older"] is None
    _, forward, _ = await apis["bob"].get(f"{url}?limit=2&after={posted[2]['seq']}")
    assert [m["text"] for m in forward["data"]["messages"]] == ["m4", "m3"]
    _, nothing, _ = await apis["bob"].get(f"{url}?after={posted[-1]['seq']}")
    assert nothing["data"]["messages"] == [] and nothing["data"]["newer"] == posted[-1]["seq"]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "before=-1", "after=x", "before=1e3",
                                   "limit=99999999999999999999999"])
async def test_bad_paging_values_are_refused(apis, general, query):
    status, body, _ = await apis["alice"].get(f"/api/v1/conversations/{general.id}/messages?{query}")
    assert status == 422 and body["error"]["fields"]


async def test_sending_posts_for_every_page_to_see(app, apis, sign_in, general):
    browser = await sign_in("alice")
    async with live(browser) as socket:
        status, body, _ = await apis["bob"].post(f"/api/v1/conversations/{general.id}/messages",
                                                 {"text": "from a bot <b>bold</b>"})
        assert status == 201 and body["data"]["author"] == "bob"
        fragment = await receive_until(socket, f"message-{body['data']['id']}")
        assert "from a bot &lt;b&gt;bold&lt;/b&gt;" in fragment


async def test_sending_the_same_client_id_twice_posts_once(apis, general):
    url = f"/api/v1/conversations/{general.id}/messages"
    first = await apis["alice"].post(url, {"text": "once", "client_id": "abc-1"})
    second = await apis["alice"].post(url, {"text": "once", "client_id": "abc-1"})
    assert first[1]["data"]["id"] == second[1]["data"]["id"]
    assert await Message.filter(conversation_id=general.id).count() == 1


@pytest.mark.parametrize("body, field", [
    ({"text": ""}, "body"), ({"text": "   \n "}, "body"), ({"text": "x" * 4001}, "body"), ({}, "body"),
    ({"text": None}, "text"), ({"text": ["a"]}, "text"), ({"text": "ok", "client_id": "bad id!"}, "client_id"),
])
async def test_sending_bad_text_says_why_and_posts_nothing(apis, general, body, field):
    status, answer, _ = await apis["alice"].post(f"/api/v1/conversations/{general.id}/messages", body)
    assert status == 422 and field in answer["error"]["fields"], answer
    assert await Message.all().count() == 0


async def test_only_members_read_and_post(app, apis, alice, general):
    async with app.app_context():
        room = await chat.create_room(alice, "closed", is_open=False)
    for call in (apis["bob"].get(f"/api/v1/conversations/{room.id}/messages"),
                 apis["bob"].post(f"/api/v1/conversations/{room.id}/messages", {"text": "let me in"}),
                 apis["bob"].post(f"/api/v1/conversations/{room.id}/read"),
                 apis["admin"].post(f"/api/v1/conversations/{room.id}/messages", {"text": "admin too"}),
                 apis["bob"].get("/api/v1/conversations/999999/messages")):
        status, body, _ = await call
        assert status == 404 and body["error"]["code"] == "not_found"
    assert await Message.all().count() == 0


async def test_posting_fast_is_limited_with_retry_after(app, apis, general):
    from app.web.throttle import MemoryLimiter

    Runtime.of(app).limiters.post_user = MemoryLimiter(3, 10)
    url = f"/api/v1/conversations/{general.id}/messages"
    for n in range(3):
        assert (await apis["alice"].post(url, {"text": f"n{n}"}))[0] == 201
    status, body, response = await apis["alice"].post(url, {"text": "one too many"})
    assert status == 429 and int(response.headers["Retry-After"]) > 0
    assert (await apis["bob"].post(url, {"text": "bob is fine"}))[0] == 201


async def test_only_the_author_edits(apis, general):
    _, posted, _ = await apis["alice"].post(f"/api/v1/conversations/{general.id}/messages", {"text": "first"})
    url = f"/api/v1/messages/{posted['data']['id']}"
    for who in ("bob", "admin"):
        status, body, _ = await apis[who].patch(url, {"text": "hijacked"})
        assert status == 403 and body["error"]["code"] == "forbidden"
    status, body, _ = await apis["alice"].patch(url, {"text": "second"})
    assert status == 200 and body["data"]["text"] == "second" and body["data"]["edited_at"]
    assert body["data"]["version"] > posted["data"]["version"]
    status, body, _ = await apis["alice"].patch(url, {"text": ""})
    assert status == 422 and (await Message.get(id=posted["data"]["id"])).body == "second"


async def test_the_author_or_an_admin_deletes(apis, general):
    url = f"/api/v1/conversations/{general.id}/messages"
    mine = (await apis["alice"].post(url, {"text": "mine"}))[1]["data"]
    other = (await apis["alice"].post(url, {"text": "another"}))[1]["data"]
    status, _, _ = await apis["bob"].delete(f"/api/v1/messages/{mine['id']}")
    assert status == 403
    status, body, _ = await apis["alice"].delete(f"/api/v1/messages/{mine['id']}")
    assert status == 200 and body["data"]["deleted"] is True and body["data"]["text"] is None
    assert (await apis["admin"].delete(f"/api/v1/messages/{other['id']}"))[0] == 200
    assert (await apis["alice"].delete(f"/api/v1/messages/{mine['id']}"))[0] == 404
    assert (await apis["alice"].patch(f"/api/v1/messages/{mine['id']}", {"text": "undead"}))[0] == 404


async def test_a_message_outside_my_conversations_is_not_found(app, apis, alice, bob):
    _, direct, _ = await apis["alice"].post("/api/v1/conversations", {"usernames": ["admin"]})
    _, posted, _ = await apis["alice"].post(f"/api/v1/conversations/{direct['data']['id']}/messages", {"text": "psst"})
    for call in (apis["bob"].patch(f"/api/v1/messages/{posted['data']['id']}", {"text": "x"}),
                 apis["bob"].delete(f"/api/v1/messages/{posted['data']['id']}")):
        assert (await call)[0] == 404


async def test_reading_clears_the_count_up_to_where_i_say(apis, general):
    posted = await post_many(apis["bob"], general.id, 4)
    url = f"/api/v1/conversations/{general.id}/read"
    status, body, _ = await apis["alice"].post(url, {"seq": posted[1]["seq"]})
    assert status == 200 and body["data"] == {"conversation_id": general.id, "read_seq": posted[1]["seq"], "unread": 2}
    status, body, _ = await apis["alice"].post(url)  # no body: everything
    assert body["data"]["unread"] == 0
    status, body, _ = await apis["alice"].post(url, {"seq": 1})  # never backwards
    assert body["data"]["read_seq"] == posted[-1]["seq"]
    status, body, _ = await apis["alice"].post(url, {"seq": -4})
    assert status == 422 and "seq" in body["error"]["fields"]


# --- errors are JSON, whatever happens -----------------------------------------------------------

@pytest.mark.parametrize("method, path, status", [
    ("GET", "/api/v1/nothing-here", 404), ("GET", "/api", 404), ("GET", "/api/", 404), ("POST", "/api/v2/users", 404),
    ("PUT", "/api/v1/me", 405), ("DELETE", "/api/v1/conversations", 405), ("GET", "/api/v1/logout", 405),
    ("GET", "/api/messenger/nothing", 404),
])
async def test_unknown_paths_and_wrong_methods_answer_json(apis, method, path, status):
    code, body, response = await apis["alice"].call(method, path)
    assert code == status
    assert set(body) == ({"Message", "Data"} if path.startswith("/api/messenger/") else {"error"})
    if status == 405:
        assert response.headers["Allow"]


@pytest.mark.parametrize("raw, content_type, status", [
    ("{not json", "application/json", 400), ("", "application/json", 400), ("[1, 2]", "application/json", 422),
    ('"text"', "application/json", 422), ("null", "application/json", 422),
    ("text=hi", "application/x-www-form-urlencoded", 415), ("hi", "text/plain", 415), ("hi", None, 415),
    (b"\x90\x80{\"text\": 1}", "application/json", 400), (b"\xff\xfe{}", "application/json", 400),
    ("[" * 50_000, "application/json", 400), ('{"text": ' * 20_000, "application/json", 400),
])
async def test_bodies_that_are_not_a_json_object_are_refused_clearly(apis, general, raw, content_type, status):
    headers = {"Content-Type": content_type} if content_type else {}
    code, body, _ = await apis["alice"].call("POST", f"/api/v1/conversations/{general.id}/messages", data=raw,
                                             headers=headers)
    assert code == status and body["error"]["message"]
    assert await Message.all().count() == 0


async def test_an_oversized_body_is_a_json_413(apis, general):
    code, body, _ = await apis["alice"].post(f"/api/v1/conversations/{general.id}/messages",
                                             {"text": "x" * (2 * 1024 * 1024)})
    assert code == 413 and body["error"]["code"] == "too_large"


async def test_a_crash_is_a_json_500_without_the_traceback(app, apis, monkeypatch, caplog):
    async def broken(user):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(operations, "me", broken)
    code, body, _ = await apis["alice"].get("/api/v1/me")
    assert code == 500 and body["error"]["code"] == "internal"
    assert "secret internals" not in str(body)
    assert "secret internals" in caplog.text  # logged for us instead


async def test_a_lost_database_is_a_json_503(app, apis, monkeypatch):
    from tortoise.exceptions import DBConnectionError

    async def down(user):
        raise DBConnectionError("gone")

    monkeypatch.setattr(operations, "conversation_list", down)
    code, body, response = await apis["alice"].get("/api/v1/conversations")
    assert code == 503 and body["error"]["code"] == "unavailable" and response.headers["Retry-After"]
