"""Limits that were missing (registration, password checks, sessions, list sizes), lock-out that
strangers could cause, and input that anyone can send that once gave a 500."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from app.models import User, UserSession
from app.runtime import Runtime
from app.web.throttle import address_block
from tests.helpers import PASSWORD


def at(ip: str) -> dict:
    """Request options for a client at this address."""
    return {"scope_base": {"client": (ip, 50000)}}


# --- input anyone can send: a clear 4xx, never a 500 -----------------------------------------------

LONG_NAME = "a" * 31
ODD_NAMES = [LONG_NAME, "b" * 300, "é" * 40, "x%00y", "\u202e" * 31, "ａ" * 40]


@pytest.mark.parametrize("name", ODD_NAMES)
async def test_odd_usernames_at_login_get_the_usual_answer(client, alice, name):
    response = await client.post("/login", {"username": name, "password": PASSWORD})
    assert response.status_code == 422
    assert "do not match an account" in await response.get_data(as_text=True)


@pytest.mark.parametrize("length", [1025, 4097, 100_000])
async def test_an_overlong_password_at_login_is_a_clear_422(client, alice, length):
    response = await client.post("/login", {"username": "alice", "password": "x" * length})
    assert response.status_code == 422
    assert "at most 1,024 characters" in await response.get_data(as_text=True)
    assert client.cookie() is None


@pytest.mark.parametrize("length", [1025, 5000])
async def test_an_overlong_current_password_is_just_wrong(client, alice, length):
    await client.login("alice")
    response = await client.post("/account/password", {
        "current_password": "x" * length, "password": "a new password", "confirm_password": "a new password",
    })
    assert response.status_code == 422
    assert "not your current password" in await response.get_data(as_text=True)


@pytest.mark.parametrize("name", ODD_NAMES)
@pytest.mark.parametrize("route", [
    ("GET", "/users/{}"), ("GET", "/users/{}/feedback/add"), ("POST", "/users/{}/feedback/add"),
    ("POST", "/users/{}/delete"), ("GET", "/admin/feedback?user={}"),
])
async def test_odd_usernames_in_urls_are_not_found(client, admin, name, route):
    await client.login("admin")
    method, path = route
    path = path.format(quote(name))
    response = await (client.get(path) if method == "GET" else client.post(path, {}))
    assert response.status_code == 404


# --- registration -------------------------------------------------------------------------------

async def test_registration_is_limited_per_address_and_says_when_to_retry(app, client, make_client):
    Runtime.of(app).limiters.register_ip.limit = 3
    for n in range(3):
        browser = make_client()
        response = await browser.post("/register", {
            "username": f"member{n}", "email": f"m{n}@example.com", "password": PASSWORD,
            "confirm_password": PASSWORD,
        }, **at("198.51.100.7"))
        assert response.status_code == 303
    refused = await make_client().post("/register", {
        "username": "member9", "email": "m9@example.com", "password": PASSWORD, "confirm_password": PASSWORD,
    }, **at("198.51.100.7"))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many sign-up attempts" in await refused.get_data(as_text=True)
    assert not await User.filter(username="member9").exists()
    # Another address is not affected.
    elsewhere = await make_client().post("/register", {
        "username": "member9", "email": "m9@example.com", "password": PASSWORD, "confirm_password": PASSWORD,
    }, **at("203.0.113.5"))
    assert elsewhere.status_code == 303


def test_the_default_registration_limit_lets_an_office_of_30_join_within_the_hour(settings):
    assert settings.registrations_per_address_per_hour >= 30


# --- guessing without locking the owner out -------------------------------------------------------

async def test_a_stranger_cannot_lock_the_owner_out(app, make_client, alice):
    stranger, owner = make_client(), make_client()
    for _ in range(app.config["HUDDLE"].login_failures_per_user):
        response = await stranger.post("/login", {"username": "alice", "password": "wrong guess"}, **at("192.0.2.66"))
        assert response.status_code == 422
    blocked = await stranger.post("/login", {"username": "alice", "password": PASSWORD}, **at("192.0.2.66"))
    assert blocked.status_code == 429  # even with the right password: that address is throttled
    welcome = await owner.post("/login", {"username": "alice", "password": PASSWORD}, **at("203.0.113.9"))
    assert welcome.status_code == 303


async def test_an_ipv6_guesser_cannot_escape_by_changing_address_within_its_64(app, make_client, alice):
    guesser = make_client()
    for n in range(app.config["HUDDLE"].login_failures_per_user):
        await guesser.post("/login", {"username": "alice", "password": "wrong"}, **at(f"2001:db8:1:2::{n + 1:x}"))
    response = await guesser.post("/login", {"username": "alice", "password": "wrong"}, **at("2001:db8:1:2:ffff::1"))
    assert response.status_code == 429
    login = {"username": "alice", "password": PASSWORD}
    other_network = await make_client().post("/login", login, **at("2001:db8:1:3::1"))
    assert other_network.status_code == 303


@pytest.mark.parametrize("ip,block", [
    ("192.0.2.1", "192.0.2.1"), ("2001:db8::1", "2001:db8::/64"), ("2001:db8::ffff:1", "2001:db8::/64"),
    ("::ffff:192.0.2.1", "192.0.2.1"), ("", "unknown"), ("not an ip", "not an ip"),
])
def test_addresses_are_limited_by_block(ip, block):
    assert address_block(ip) == block


async def test_a_stranger_cannot_block_the_owners_password_reset(app, make_client, alice):
    limit = app.config["HUDDLE"].reset_requests_per_email
    stranger = make_client()
    for _ in range(limit + 2):
        await stranger.post("/password/forgot", {"email": "alice@example.com"}, **at("192.0.2.66"))
    refused = await stranger.post("/password/forgot", {"email": "alice@example.com"}, **at("192.0.2.66"))
    assert refused.status_code == 429
    owner = await make_client().post("/password/forgot", {"email": "alice@example.com"}, **at("203.0.113.9"))
    assert owner.status_code == 200


async def test_guessing_the_current_password_from_a_session_is_throttled(app, client, alice):
    await client.login("alice")
    wrong = {"current_password": "a wrong guess", "password": "a new password", "confirm_password": "a new password"}
    for _ in range(app.config["HUDDLE"].login_failures_per_user):
        assert (await client.post("/account/password", wrong)).status_code == 422
    right = dict(wrong, current_password=PASSWORD)
    response = await client.post("/account/password", right)
    assert response.status_code == 429 and int(response.headers.get("Retry-After", "1")) > 0
    assert "Too many wrong passwords" in await response.get_data(as_text=True)
    user = await User.get(id=alice.id)
    from app.models import hashing
    assert await hashing.verify_password(PASSWORD, user.password_hash)  # unchanged


# --- sessions per user ----------------------------------------------------------------------------

async def test_only_the_newest_sessions_are_kept_and_the_page_says_so(app, make_client, alice):
    app.config["HUDDLE"].sessions_per_user = 3
    browsers = [make_client() for _ in range(5)]
    for browser in browsers:
        await browser.login("alice")
    assert await UserSession.filter(user_id=alice.id).count() == 3
    assert (await browsers[0].get("/account/sessions")).status_code == 401  # the oldest: logged out
    page = await (await browsers[-1].get("/account/sessions")).get_data(as_text=True)
    assert "3 active sessions" in page and "keeps your 3 most recent browser sessions" in page


async def test_the_sessions_page_is_paged(app, make_client, alice):
    browsers = [make_client() for _ in range(23)]
    for browser in browsers:
        await browser.login("alice")
    first = await (await browsers[-1].get("/account/sessions")).get_data(as_text=True)
    assert "23 active sessions" in first and first.count("<tr id=") == 21  # this device + 20
    cursor = first.split("/account/sessions?before=")[1].split('"')[0]
    rest = await (await browsers[-1].get(f"/account/sessions?before={cursor}")).get_data(as_text=True)
    assert rest.count("<tr id=") == 2 and "Older sessions" not in rest


async def test_with_one_session_left_there_is_nothing_else_to_log_out(client, make_client, alice):
    await client.login("alice")
    phone = make_client()
    await phone.login("alice")
    await client.post("/account/sessions/others/delete")
    page = await (await client.get("/account/sessions")).get_data(as_text=True)
    assert "1 active session<" in page and "Log out everywhere else" not in page


# --- lists that grow with the membership ----------------------------------------------------------

@pytest.mark.parametrize("path,size,more", [("/", 100, "More people"), ("/admin/users", 50, "More users")])
async def test_people_lists_are_paged_by_name(client, admin, path, size, more):
    for n in range(size + 5):
        await User.create(username=f"member{n:03}", username_key=f"member{n:03}", email=f"m{n}@example.com",
                          password_hash="x")
    await client.login("admin")
    first = await (await client.get(path)).get_data(as_text=True)
    later = f">member{size:03}</"  # the name shown, in a link or its name span
    assert more in first and ">member000</" in first and later not in first
    cursor = first.split("?after=")[1].split('"')[0]
    second = await (await client.get(f"{path}?after={cursor}")).get_data(as_text=True)
    assert later in second and ">member000</" not in second
