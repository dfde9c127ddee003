"""Accounts: register, log in, log out, profiles, sessions."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app import clock
from app.models import User, UserSession
from app.runtime import Runtime
from tests.helpers import PASSWORD
from tests.helpers.accounts import make_user
from tests.helpers.client import without_tokens
from tests.helpers.html import fact, text_of, toast

GOOD = {"username": "carol", "email": "carol@example.com", "password": PASSWORD, "confirm_password": PASSWORD}


# --- register ---------------------------------------------------------------------------------

async def test_register_page_has_labelled_fields(client):
    html = await (await client.get("/register")).get_data(as_text=True)
    for label in ("Username", "Email", "Password", "Confirm password"):
        assert f">{label}</label>" in html
    assert ">Register</button>" in html


async def test_first_account_is_the_administrator_and_the_next_is_not(client, make_client):
    response = await client.post("/register", GOOD)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/invitations?welcome=1"  # first run
    other = make_client()
    response = await other.post("/register", {**GOOD, "username": "dave", "email": "dave@example.com"})
    assert response.status_code == 303 and response.headers["Location"] == "/chat"  # the next: into #general
    carol, dave = await User.get(username="carol"), await User.get(username="dave")
    assert carol.is_admin and not dave.is_admin


async def test_registering_logs_the_new_user_in(client, admin):
    await client.post("/register", GOOD)
    page = await (await client.get("/")).get_data(as_text=True)
    assert "Account menu of </span><strong data-name-of=" in page and ">carol</strong>" in page
    assert await UserSession.filter(user__username="carol").count() == 1


async def test_extra_fields_cannot_make_a_new_user_admin(client, admin):
    await client.post("/register", {**GOOD, "is_admin": "true", "is_admin[]": "1"})
    assert not (await User.get(username="carol")).is_admin


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"username": ""}, "username", "Enter a username."),
        ({"username": "ab"}, "username", "Use 3 to 30 characters."),
        ({"username": "a" * 31}, "username", "Use 3 to 30 characters."),
        ({"username": "carol smith"}, "username", "Use only letters"),
        ({"username": "car\u200bol"}, "username", "Use only letters"),  # zero-width space
        ({"username": "carol\u202e"}, "username", "Use only letters"),  # bidi override
        ({"username": "p\u0430ypal"}, "username", "one alphabet"),  # Cyrillic а among Latin
        ({"username": "<script>"}, "username", "Use only letters"),
        ({"username": "_carol"}, "username", "Start and end"),
        ({"username": "ＡＤＭＩＮ"}, "username", "taken"),  # full-width folds onto "admin"
        ({"username": "Admin"}, "username", "taken"),
        ({"email": ""}, "email", "Enter an email address."),
        ({"email": "carol"}, "email", "valid email"),
        ({"email": "<b>x</b>@example.com"}, "email", "valid email"),
        ({"email": "ADMIN@example.com"}, "email", "already registered"),
        ({"password": "short", "confirm_password": "short"}, "password", "at least 8"),
        ({"password": "x" * 1025, "confirm_password": "x" * 1025}, "password", "at most 1024"),
        # Both password fields come back empty: the mismatch is said on the first, once.
        ({"confirm_password": "something else"}, "password", "The passwords did not match, so both were cleared"),
    ],
)
async def test_register_shows_each_error_beside_its_field_and_keeps_the_input(client, admin, change, field, message):
    response = await client.post("/register", {**GOOD, **change})
    html = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in html and message in html
    assert f'id="{field}" name="{field}"' in html and 'aria-invalid="true"' in html
    if field != "email":
        assert 'value="carol@example.com"' in html  # the typed email is kept
    assert PASSWORD not in html  # the password never comes back
    assert await User.all().count() == 1  # only the admin fixture


async def test_register_errors_come_back_as_a_fragment_for_htmx(client, admin):
    response = await client.post("/register", {**GOOD, "username": "x"}, htmx=True)
    html = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith('<form id="register-form"') and "<html" not in html  # the form alone
    assert "Use 3 to 30 characters." in html
    assert "HX-Request" in response.headers["Vary"]  # (and Accept-Encoding: pages are compressed)


async def test_register_with_htmx_redirects_the_whole_page(client, admin):
    response = await client.post("/register", GOOD, htmx=True)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/chat"  # into #general


async def test_logged_in_users_are_sent_on_from_register_and_login(client, alice):
    await client.login("alice")
    for path, to in (("/register", "/"), ("/login", "/chat")):
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["Location"] == to


# --- log in -----------------------------------------------------------------------------------

async def test_login_follows_a_local_next_but_never_another_site(client, alice, make_client):
    form = {"username": "alice", "password": PASSWORD, "next": "/account/sessions"}
    response = await client.post("/login?next=/account/sessions", form)
    assert response.headers["Location"] == "/account/sessions"
    other = make_client()
    response = await other.post("/login", {"username": "alice", "password": PASSWORD, "next": "//evil.example/x"})
    assert response.headers["Location"] == "/chat"


async def test_username_is_case_insensitive_at_login(client, alice):
    response = await client.post("/login", {"username": "ALICE", "password": PASSWORD})
    assert response.status_code == 303


@pytest.mark.parametrize(
    "password", [PASSWORD[:-1], PASSWORD.upper(), PASSWORD[0].upper() + PASSWORD[1:], PASSWORD + " "]
)
async def test_password_is_never_truncated_or_case_folded(client, alice, password):
    response = await client.post("/login", {"username": "alice", "password": password})
    assert response.status_code == 422


async def test_long_password_must_match_in_full(client, admin):
    long = "p" * 200 + "-end"
    await make_user("longpw", password=long)
    assert (await client.post("/login", {"username": "longpw", "password": "p" * 200})).status_code == 422
    assert (await client.post("/login", {"username": "longpw", "password": long})).status_code == 303


async def test_unknown_user_and_wrong_password_get_the_same_answer(client, alice):
    wrong = await client.post("/login", {"username": "alice", "password": "wrong password"})
    unknown = await client.post("/login", {"username": "nobody", "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 422

    def strip(html, name):
        return without_tokens(html).replace(f'value="{name}"', 'value=""')

    assert strip(await wrong.get_data(as_text=True), "alice") == strip(await unknown.get_data(as_text=True), "nobody")


async def test_login_error_is_shown_in_the_form(client, alice):
    html = await (await client.post("/login", {"username": "alice", "password": "nope"})).get_data(as_text=True)
    assert "That username and password do not match an account." in html
    assert 'value="alice"' in html


async def test_repeated_failures_are_throttled_then_lift_and_spare_others(
    app, client, make_client, alice, bob, monkeypatch
):
    limiter = Runtime.of(app).limiters.login_user
    now = [1000.0]
    monkeypatch.setattr(limiter, "clock", lambda: now[0])
    for _ in range(app.config["HUDDLE"].login_failures_per_user):
        assert (await client.post("/login", {"username": "alice", "password": "guess"})).status_code == 422
    throttled = await client.post("/login", {"username": "alice", "password": PASSWORD})
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    assert "Too many failed attempts" in await throttled.get_data(as_text=True)
    # Bob, from another browser, is not affected.
    assert (await make_client().post("/login", {"username": "bob", "password": PASSWORD})).status_code == 303
    # The limit lifts by itself when the window has passed.
    now[0] += app.config["HUDDLE"].login_window_seconds + 1
    assert (await client.post("/login", {"username": "alice", "password": PASSWORD})).status_code == 303


async def test_session_id_changes_at_login_and_a_planted_cookie_is_useless(app, client, alice, make_client):
    victim = make_client()
    await victim.login("alice")
    before = victim.cookie()
    await victim.post("/logout")
    await victim.login("alice")
    assert victim.cookie() != before
    # A cookie from a session that has ended authenticates nobody.
    attacker = make_client()
    attacker.set_cookie(before)
    assert (await attacker.get("/account/sessions")).status_code == 401


async def test_a_forged_cookie_authenticates_nobody(client, alice):
    client.set_cookie("not-a-signed-token")
    assert (await client.get("/account/sessions")).status_code == 401


# --- log out and sessions -----------------------------------------------------------------------

async def test_logout_deletes_the_session_row_so_the_old_cookie_is_dead(client, alice, make_client):
    await client.login("alice")
    cookie = client.cookie()
    response = await client.post("/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert await UserSession.filter(user=alice).count() == 0
    replay = make_client()
    replay.set_cookie(cookie)
    response = await replay.get("/account/sessions")
    assert response.status_code == 401
    assert 'id="login-form"' in await response.get_data(as_text=True)


async def test_sessions_page_lists_my_devices_and_marks_this_one(client, make_client, sign_in, alice, bob):
    await client.login("alice")
    phone = make_client()
    iphone = {"User-Agent": "Mozilla/5.0 (iPhone) Safari/605"}
    await phone.post("/login", {"username": "alice", "password": PASSWORD}, headers=iphone)
    await sign_in("bob")
    html = await (await client.get("/account/sessions")).get_data(as_text=True)
    assert html.count("<tr id=\"usersession-") == 2  # bob's session is not listed
    assert "This device" in html and "Safari on iPhone" in html


async def test_revoking_a_session_logs_that_device_out_only(client, sign_in, alice):
    await client.login("alice")
    phone = await sign_in("alice")
    phone_session = await UserSession.filter(user=alice).order_by("-id").first()
    page = await (await client.get("/account/sessions")).get_data(as_text=True)
    assert "2 active sessions" in page and "Log out everywhere else" in page
    response = await client.post(f"/account/sessions/{phone_session.id}/delete", htmx=True)
    # The whole list comes back, counted again: one session, nothing else to log out.
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="sessions">')
    assert "1 active session<" in html and "Log out everywhere else" not in html
    assert toast(response) == "That session has been logged out." and html.count('<tr id="usersession-') == 1
    assert (await phone.get("/account/sessions")).status_code == 401
    assert (await client.get("/account/sessions")).status_code == 200


async def test_revoking_an_api_token_keeps_log_out_everywhere_else_for_other_browsers(client, sign_in, alice):
    from tests.helpers.api import Api

    await client.login("alice")
    await sign_in("alice")
    status, body, _ = await Api(client.app).post("/api/v1/login", {"username": "alice", "password": PASSWORD})
    assert status == 200
    token = await UserSession.filter(user=alice, kind="api").get()
    response = await client.post(f"/account/sessions/{token.id}/delete", htmx=True)
    html = await response.get_data(as_text=True)
    assert "2 active sessions" in html and "Log out everywhere else" in html
    assert toast(response) == "That API token has been revoked."


async def test_revoking_this_session_is_logging_out(client, alice):
    await client.login("alice")
    mine = await UserSession.get(user=alice)
    response = await client.post(f"/account/sessions/{mine.id}/delete")
    assert response.headers["Location"] == "/login"
    assert (await client.get("/account/sessions")).status_code == 401


@pytest.mark.parametrize("who", ["bob", "admin"])
async def test_nobody_can_revoke_someone_elses_session(client, sign_in, alice, bob, who):
    await client.login("alice")
    hers = await UserSession.get(user=alice)
    other = await sign_in(who)
    response = await other.post(f"/account/sessions/{hers.id}/delete")
    assert response.status_code == 404
    assert await UserSession.exists(id=hers.id)
    assert (await client.get("/account/sessions")).status_code == 200


async def test_revoking_a_missing_session_is_not_found(client, alice):
    await client.login("alice")
    assert (await client.post("/account/sessions/99999/delete")).status_code == 404
    assert (await client.post("/account/sessions/abc/delete")).status_code == 404


async def test_log_out_everywhere_else_keeps_only_this_device(client, sign_in, alice, bob):
    await client.login("alice")
    others = [await sign_in("alice") for _ in range(2)]
    bobs = await sign_in("bob")
    response = await client.post("/account/sessions/others/delete", htmx=True)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="sessions"' in html
    assert toast(response) == "Logged out of 2 other sessions."
    assert "1 active session<" in html and "Log out everywhere else" not in html
    for other in others:
        assert (await other.get("/account/sessions")).status_code == 401
    assert (await client.get("/account/sessions")).status_code == 200
    assert (await bobs.get("/account/sessions")).status_code == 200


async def test_idle_sessions_expire(app, client, alice, monkeypatch):
    await client.login("alice")
    idle = app.config["HUDDLE"].session_idle_seconds
    later = clock.now() + timedelta(seconds=idle + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert (await client.get("/account/sessions")).status_code == 401
    assert await UserSession.filter(user=alice).count() == 0


async def test_sessions_expire_absolutely_even_when_used(app, client, alice, monkeypatch):
    await client.login("alice")
    start = clock.now()
    settings = app.config["HUDDLE"]
    moment = [start]
    monkeypatch.setattr(clock, "now", lambda: moment[0])
    step = timedelta(seconds=settings.session_idle_seconds // 2)
    while moment[0] - start < timedelta(seconds=settings.session_max_age_seconds - step.total_seconds()):
        moment[0] += step
        assert (await client.get("/account/sessions")).status_code == 200  # still in use
    moment[0] = start + timedelta(seconds=settings.session_max_age_seconds + 1)
    assert (await client.get("/account/sessions")).status_code == 401


async def test_deleting_the_user_ends_their_sessions(client, alice):
    await client.login("alice")
    await alice.delete()
    assert (await client.get("/account/sessions")).status_code == 401


# --- profiles --------------------------------------------------------------------------------------

async def test_profile_shows_presence_and_join_date_and_email_only_to_the_owner(client, sign_in, alice, bob):
    await client.login("alice")
    own = await (await client.get("/users/alice")).get_data(as_text=True)
    # Looking at your own profile is being online, even before this page's socket connects.
    assert fact(own, "Presence").startswith("Online")
    assert own.count("data-presence-user=") == 1 and "Online now" not in own  # shown once
    assert fact(own, "Joined") == alice.created_at.strftime("%-d %b %Y")
    assert fact(own, "Email").startswith("alice@example.com")
    seen = await (await (await sign_in("bob")).get("/users/alice")).get_data(as_text=True)
    # alice has no page open: bob sees her offline, and when she was last about.
    assert fact(seen, "Presence").startswith("Offline · last online ")
    assert fact(seen, "Joined") == fact(own, "Joined")
    assert "alice@example.com" not in seen and "Email" not in text_of(seen)


async def test_profile_url_is_case_insensitive_and_missing_users_are_404(client, alice):
    await client.login("alice")
    assert (await client.get("/users/ALICE")).status_code == 200
    response = await client.get("/users/nobody")
    assert response.status_code == 404 and "There is no user called nobody." in await response.get_data(as_text=True)


async def test_anonymous_visitors_get_a_401_page_with_the_login_form(client, alice):
    response = await client.get("/users/alice")
    html = await response.get_data(as_text=True)
    assert response.status_code == 401 and 'id="login-form"' in html
    assert 'name="next" value="/users/alice"' in html


async def test_htmx_request_that_needs_login_is_sent_to_the_login_page(client):
    response = await client.get("/account/sessions", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/account/sessions"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/account/sessions"
    assert await response.get_data(as_text=True) == ""


async def test_the_home_page_lists_the_team(client, alice, bob):
    await client.login("alice")
    html = text_of(await (await client.get("/")).get_data(as_text=True))
    assert "3 members" in html and "bob" in html and "admin" in html


async def test_static_files_cost_no_session_lookup(app, client, alice, monkeypatch):
    await client.login("alice")
    lookups = []
    original = UserSession.from_token.__func__

    async def counting(cls, *args, **kwargs):
        lookups.append(1)
        return await original(cls, *args, **kwargs)

    monkeypatch.setattr(UserSession, "from_token", classmethod(counting))
    assert (await client.get("/static/css/huddle.css")).status_code == 200
    assert lookups == []
    assert (await client.get("/account/sessions")).status_code == 200
    assert lookups == [1]


@pytest.mark.parametrize("name", ["alice@example.com", "  ALICE@Example.com "])
async def test_login_accepts_the_email_address_too(client, alice, name):
    response = await client.post("/login", {"username": name, "password": PASSWORD})
    assert response.status_code == 303


@pytest.mark.parametrize("name", ["alice@example.com", "nobody@example.com"])
async def test_a_wrong_login_by_email_says_what_any_wrong_login_says(client, alice, name):
    response = await client.post("/login", {"username": name, "password": "wrong password!"})
    assert response.status_code == 422
    assert "That username and password do not match an account." in await response.get_data(as_text=True)


async def test_the_api_logs_in_by_email_too(app, alice):
    from tests.helpers.api import Api

    status, body, _ = await Api(app).post("/api/v1/login", {"username": "alice@example.com", "password": PASSWORD})
    assert status == 200 and body["data"]["token"]
