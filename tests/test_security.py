"""Site-wide promises: CSRF, headers, cookies, error pages, and an access rule for every route."""
from __future__ import annotations

import logging
import re

import pytest

from app import create_app
from app.config import Settings
from app.models import User, UserSession, hashing
from tests.helpers import ARGON2_MEMORY_KIB, PASSWORD
from tests.helpers.live import websocket_status

# Every route and who may use it: (method, path) -> expected status for anonymous, user, admin.
# A new route that is missing here fails test_every_route_has_an_access_rule.
ROUTES = {
    ("GET", "/"): (200, 200, 200),
    ("GET", "/healthz"): (200, 200, 200),
    ("GET", "/readyz"): (200, 200, 200),
    ("GET", "/register"): (200, 303, 303),
    ("POST", "/register"): (422, 303, 303),
    ("GET", "/login"): (200, 303, 303),
    ("POST", "/login"): (422, 303, 303),
    ("POST", "/logout"): (303, 303, 303),
    ("GET", "/users/<username>"): (401, 200, 200),
    ("GET", "/account/sessions"): (401, 200, 200),
    ("POST", "/account/sessions/<int:session_id>/delete"): (401, 404, 404),
    ("POST", "/account/sessions/others/delete"): (401, 303, 303),
    ("GET", "/static/<path:filename>"): (200, 200, 200),
    ("GET", "/session"): (401, 204, 204),
    ("WS", "/live"): (401, 101, 101),
    ("GET", "/admin/users"): (401, 403, 200),
    ("POST", "/admin/users"): (401, 403, 422),
    ("GET", "/admin/users/new"): (401, 403, 200),
    ("GET", "/admin/users/<int:user_id>"): (401, 403, 303),
    ("GET", "/admin/users/<int:user_id>/edit"): (401, 403, 200),
    ("POST", "/admin/users/<int:user_id>"): (401, 403, 422),
    ("GET", "/admin/users/<int:user_id>/delete"): (401, 403, 200),
    ("POST", "/admin/users/<int:user_id>/delete"): (401, 403, 303),
    ("GET", "/admin/audit"): (401, 403, 200),
    ("POST", "/admin/link-previews"): (401, 403, 422),
    ("GET", "/admin/feedback"): (401, 403, 200),
    ("GET", "/admin/invitations"): (401, 403, 200),
    ("POST", "/admin/invitations"): (401, 403, 422),
    ("POST", "/admin/invitations/<int:invitation_id>/revoke"): (401, 403, 404),
    ("POST", "/admin/reserved-names/<int:reserved_id>/free"): (401, 403, 404),
    ("GET", "/join/<token>"): (303, 303, 303),
    # <username> is alice, so "user" is the owner here; other users are in tests/test_feedback.py.
    # Nobody, administrators included, adds feedback in someone else's name.
    ("GET", "/users/<username>/feedback/add"): (401, 200, 403),
    ("POST", "/users/<username>/feedback/add"): (401, 422, 403),
    ("GET", "/feedback/<int:feedback_id>/update"): (401, 404, 404),
    ("POST", "/feedback/<int:feedback_id>/update"): (401, 404, 404),
    ("POST", "/feedback/<int:feedback_id>/delete"): (401, 404, 404),
    ("POST", "/users/<username>/delete"): (401, 303, 303),
    ("GET", "/password/forgot"): (200, 200, 200),
    ("POST", "/password/forgot"): (422, 422, 422),
    ("GET", "/password/reset/<token>"): (404, 404, 404),
    ("POST", "/password/reset/<token>"): (404, 404, 404),
    ("GET", "/account/password"): (401, 200, 200),
    ("POST", "/account/password"): (401, 422, 422),
    ("GET", "/account/name"): (401, 200, 200),
    ("POST", "/account/name"): (401, 303, 303),
    # Web Push: this device's notifications page, the root-scoped service worker and the manifest
    ("GET", "/account/notifications"): (401, 200, 200),
    ("GET", "/service-worker.js"): (200, 200, 200),
    ("GET", "/manifest.webmanifest"): (200, 200, 200),
    # People's pictures: one's own to choose or remove (a form without a file is 422); anyone signed
    # in sees someone's, at its current key only (tests/test_avatars.py)
    ("GET", "/account/picture"): (401, 200, 200),
    ("POST", "/account/picture"): (401, 422, 422),
    ("POST", "/account/picture/remove"): (401, 303, 303),
    ("GET", "/people/<int:user_id>/avatar/<key>.webp"): (401, 404, 404),
    # Files: an upload that is not multipart is 422; a file whose token names nothing, or an upload
    # not one's own to take back, is a 404 for everyone (tests/test_files.py: who reads what)
    ("POST", "/uploads"): (401, 422, 422),
    ("POST", "/uploads/<int:attachment_id>/remove"): (401, 404, 404),
    ("GET", "/files/<token>/<path:name>"): (401, 404, 404),
    ("GET", "/files/preview/<token>.webp"): (401, 404, 404),
    ("GET", "/files/large/<token>.webp"): (401, 404, 404),
    # chat: a conversation or message that does not exist (or is not yours) is a 404 for everyone
    ("GET", "/chat"): (401, 303, 303),
    ("GET", "/chat/sidebar"): (401, 200, 200),
    ("GET", "/chat/<int:conversation_id>"): (401, 404, 404),
    ("GET", "/chat/<int:conversation_id>/messages"): (401, 404, 404),
    ("POST", "/chat/<int:conversation_id>/messages"): (401, 404, 404),
    ("GET", "/chat/<int:conversation_id>/messages/<int:message_id>"): (401, 404, 404),
    ("POST", "/chat/<int:conversation_id>/read"): (401, 404, 404),
    ("POST", "/chat/<int:conversation_id>/join"): (401, 404, 404),
    ("POST", "/chat/<int:conversation_id>/leave"): (401, 404, 404),
    ("GET", "/chat/<int:conversation_id>/settings"): (401, 404, 404),
    ("POST", "/chat/<int:conversation_id>/settings"): (401, 404, 404),
    ("GET", "/chat/<int:conversation_id>/delete"): (401, 404, 404),
    ("POST", "/chat/<int:conversation_id>/delete"): (401, 404, 404),
    ("GET", "/chat/<int:conversation_id>/members"): (401, 404, 404),
    ("POST", "/chat/<int:conversation_id>/members"): (401, 404, 404),
    ("POST", "/chat/<int:conversation_id>/members/<int:user_id>/delete"): (401, 404, 404),
    ("GET", "/chat/messages/<int:message_id>"): (401, 404, 404),
    ("POST", "/chat/messages/<int:message_id>"): (401, 404, 404),
    ("POST", "/chat/messages/<int:message_id>/unread"): (401, 404, 404),
    ("GET", "/chat/messages/<int:message_id>/edit"): (401, 404, 404),
    ("GET", "/chat/messages/<int:message_id>/delete"): (401, 404, 404),
    ("POST", "/chat/messages/<int:message_id>/delete"): (401, 404, 404),
    # reactions: members of the message's conversation only (tests/test_reactions.py)
    ("GET", "/chat/messages/<int:message_id>/reactions"): (401, 404, 404),
    ("POST", "/chat/messages/<int:message_id>/reactions"): (401, 404, 404),
    # link previews: its sender removes one; its image for whoever may read (tests/test_link_previews.py)
    ("POST", "/chat/messages/<int:message_id>/preview/remove"): (401, 404, 404),
    ("GET", "/chat/messages/<int:message_id>/preview/image"): (401, 404, 404),
    # threads: whoever may read the message's conversation opens its thread (tests/test_thread_pages.py)
    ("GET", "/chat/messages/<int:message_id>/thread"): (401, 404, 404),
    ("GET", "/chat/threads/<int:thread_id>"): (401, 404, 404),
    ("POST", "/chat/threads/<int:thread_id>/follow"): (401, 404, 404),
    ("GET", "/chat/threads"): (401, 200, 200),
    ("GET", "/chat/rooms/new"): (401, 200, 200),
    ("POST", "/chat/rooms/new"): (401, 422, 422),
    ("GET", "/chat/new"): (401, 200, 200),
    ("POST", "/chat/new"): (401, 422, 422),
    ("GET", "/chat/with/<username>"): (401, 303, 303),
    # whom "@" offers, and what a member is notified of: members only (tests/test_mention_complete.py,
    # tests/test_levels.py)
    ("GET", "/chat/<int:conversation_id>/people"): (401, 404, 404),
    ("GET", "/chat/<int:conversation_id>/notifications"): (401, 404, 404),
    ("POST", "/chat/<int:conversation_id>/notifications"): (401, 404, 404),
    # search: what the reader may read (a conversation id they may not read is a 404: test_search_doors)
    ("GET", "/search"): (401, 200, 200),
    # mentions: one's own, in what one may read (tests/test_mentions.py); the viewer's own stylesheet
    ("GET", "/mentions"): (401, 200, 200),
    ("GET", "/mentions/viewer.css"): (401, 200, 200),
    # The JSON API: a cookie never authenticates it (so a logged-in browser is anonymous there),
    # and it takes only JSON bodies (a form is 415). Token-holders: tests/test_api*.py.
    ("GET", "/docs/api"): (200, 200, 200),
    ("GET", "/api/v1/docs"): (302, 302, 302),
    ("GET", "/api/v1/openapi.json"): (200, 200, 200),
    ("POST", "/api/v1/users"): (415, 415, 415),
    ("POST", "/api/v1/login"): (415, 415, 415),
    ("POST", "/api/v1/logout"): (401, 401, 401),
    ("GET", "/api/v1/me"): (401, 401, 401),
    ("PATCH", "/api/v1/me"): (401, 401, 401),
    ("GET", "/api/v1/users/<username>"): (401, 401, 401),
    ("GET", "/api/v1/conversations"): (401, 401, 401),
    ("POST", "/api/v1/conversations"): (401, 401, 401),
    ("GET", "/api/v1/conversations/<int:conversation_id>"): (401, 401, 401),
    ("PATCH", "/api/v1/conversations/<int:conversation_id>"): (401, 401, 401),
    ("DELETE", "/api/v1/conversations/<int:conversation_id>"): (401, 401, 401),
    ("GET", "/api/v1/conversations/<int:conversation_id>/messages"): (401, 401, 401),
    ("POST", "/api/v1/conversations/<int:conversation_id>/messages"): (401, 401, 401),
    ("POST", "/api/v1/conversations/<int:conversation_id>/read"): (401, 401, 401),
    ("GET", "/api/v1/conversations/<int:conversation_id>/notifications"): (401, 401, 401),
    ("PUT", "/api/v1/conversations/<int:conversation_id>/notifications"): (401, 401, 401),
    ("PATCH", "/api/v1/messages/<int:message_id>"): (401, 401, 401),
    ("DELETE", "/api/v1/messages/<int:message_id>"): (401, 401, 401),
    ("PUT", "/api/v1/messages/<int:message_id>/reactions/<emoji>"): (401, 401, 401),
    ("DELETE", "/api/v1/messages/<int:message_id>/reactions/<emoji>"): (401, 401, 401),
    ("DELETE", "/api/v1/messages/<int:message_id>/preview"): (401, 401, 401),
    ("GET", "/api/v1/messages/<int:message_id>/preview/image"): (401, 401, 401),
    ("GET", "/api/v1/search"): (401, 401, 401),
    ("POST", "/api/v1/messages/<int:message_id>/thread"): (401, 401, 401),
    ("GET", "/api/v1/threads"): (401, 401, 401),
    ("PUT", "/api/v1/threads/<int:thread_id>/follow"): (401, 401, 401),
    ("DELETE", "/api/v1/threads/<int:thread_id>/follow"): (401, 401, 401),
    ("POST", "/api/v1/uploads"): (401, 401, 401),
    ("GET", "/api/v1/files/<token>"): (401, 401, 401),
    ("GET", "/api/v1/files/<token>/preview"): (401, 401, 401),
    # Push subscriptions also take a page's cookie, but only with its X-CSRF-Token header (a form is 403).
    ("GET", "/api/v1/push/key"): (200, 200, 200),
    ("POST", "/api/v1/push/subscriptions"): (401, 403, 403),
    ("DELETE", "/api/v1/push/subscriptions"): (401, 403, 403),
    ("GET", "/api/v1/mentions"): (401, 401, 401),
    ("WS", "/api/v1/ws"): (101, 101, 101),
    ("POST", "/api/messenger/user"): (415, 415, 415),
    ("GET", "/api/messenger/user/<username>"): (401, 401, 401),
    ("POST", "/api/messenger/user/login"): (415, 415, 415),
    ("POST", "/api/messenger/user/logout"): (401, 401, 401),
    ("POST", "/api/messenger/conversation"): (401, 401, 401),
    ("GET", "/api/messenger/conversation"): (401, 401, 401),
    ("POST", "/api/messenger/message"): (401, 401, 401),
    ("PUT", "/api/messenger/message"): (401, 401, 401),
    ("DELETE", "/api/messenger/message/<int:message_id>"): (401, 401, 401),
    ("GET", "/api/messenger/message/<int:conversation_id>"): (401, 401, 401),
    ("PUT", "/api/messenger/message/<int:message_id>/reaction/<path:emoji>"): (401, 401, 401),
    ("DELETE", "/api/messenger/message/<int:message_id>/reaction/<path:emoji>"): (401, 401, 401),
    ("GET", "/api/messenger/openapi.json"): (200, 200, 200),
    ("WS", "/api/messenger/websocket"): (101, 101, 101),
}
API = {route for route in ROUTES if route[1].startswith("/api/")}
EXAMPLES = {"<username>": "alice", "<int:session_id>": "999999", "<path:filename>": "css/huddle.css",
            "<int:feedback_id>": "999999", "<token>": "no-such-token", "<int:conversation_id>": "999999",
            "<int:message_id>": "999999", "<int:invitation_id>": "999999",
            "<int:reserved_id>": "999999", "<key>": "0" * 64, "<int:attachment_id>": "999999",
            "<path:name>": "report.pdf", "<emoji>": "%F0%9F%91%8D", "<int:thread_id>": "999999"}


def concrete(path: str, user: User) -> str:
    """The route with example values; <int:user_id> is `user`, someone other than who asks."""
    for pattern, value in {**EXAMPLES, "<int:user_id>": str(user.id)}.items():
        path = path.replace(pattern, value)
    return path


def test_every_route_has_an_access_rule(settings):
    app = create_app(settings)
    rules = {
        ("WS" if rule.websocket else method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert rules == set(ROUTES), f"routes without a rule, or rules without a route: {rules ^ set(ROUTES)}"


ROLES = ("anonymous", "user", "admin")


def changes_something(route, role: str) -> bool:
    """An unsafe request its rule lets through (logging out, deleting an account, ending the other
    sessions) may change what other cases rely on: such a case gets a site of its own."""
    return route[0] not in {"GET", "WS"} and ROUTES[route][ROLES.index(role)] < 400


def route_cases(changing: bool) -> list:
    return [pytest.param(route, role, id=f"{role}-{route[0]} {route[1]}")
            for role in ROLES for route in sorted(ROUTES) if changes_something(route, role) == changing]


async def answers_as_its_rule_says(client, route, role: str, bob: User) -> None:
    method, path = route
    expected = ROUTES[route][ROLES.index(role)]
    if method == "WS":
        assert await websocket_status(client, path) == expected
        return
    if method == "GET":
        response = await client.get(concrete(path, bob))
    elif method == "POST":
        response = await client.post(concrete(path, bob), {})
    else:
        response = await client.raw.open(concrete(path, bob), method=method, form={"csrf_token": await client.token()})
    assert response.status_code == expected
    if path.startswith("/api/") and method != "WS" and expected != 302:
        assert response.mimetype == "application/json", "the API never answers HTML"


class TestEveryRoute:
    """The cases that change nothing share one site and a signed-in browser per role (conftest's
    `site`); each case would otherwise start an app and log in for one request."""
    pytestmark = pytest.mark.asyncio(loop_scope="class")

    @pytest.mark.parametrize("route, role", route_cases(changing=False))
    async def test_every_route_answers_each_role_as_its_rule_says(self, site, route, role):
        await answers_as_its_rule_says(site.clients[role], route, role, site.bob)


@pytest.mark.parametrize("route, role", route_cases(changing=True))
async def test_every_route_that_changes_something_answers_each_role_as_its_rule_says(client, admin, alice, bob,
                                                                                     route, role):
    if role != "anonymous":
        await client.login("admin" if role == "admin" else "alice")
    await answers_as_its_rule_says(client, route, role, bob)


INT_ROUTES = sorted(route for route in ROUTES if "<int:" in route[1] and route not in API)


class TestIdsOutOfRange:
    """Nothing is found, so nothing changes: one site for every case (conftest's `site`)."""
    pytestmark = pytest.mark.asyncio(loop_scope="class")

    @pytest.mark.parametrize("route", INT_ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
    @pytest.mark.parametrize("bad_id", ["99999999999999999999999", str(2**31), "0", "00", "-1", "1e3", "０１"])
    async def test_an_id_outside_the_databases_range_is_not_found(self, site, route, bad_id):
        client = site.clients["admin"]
        path = re.sub(r"<int:\w+>", bad_id, route[1])
        response = await (client.get(path) if route[0] == "GET" else client.post(path, {}))
        assert response.status_code == 404


# --- CSRF -----------------------------------------------------------------------------------------

# The API is left out: it never reads the cookie, so there is nothing for a CSRF token to protect.
UNSAFE = sorted(route for route in ROUTES if route[0] not in {"GET", "WS"} and route not in API)


class TestWithoutTheToken:
    """Every case is refused, so nothing changes: one site for them all (conftest's `site`)."""
    pytestmark = pytest.mark.asyncio(loop_scope="class")

    @pytest.mark.parametrize("route", UNSAFE, ids=lambda r: r[1])
    @pytest.mark.parametrize("logged_in", [False, True])
    async def test_unsafe_requests_without_the_token_are_refused(self, site, route, logged_in):
        client = site.clients["user" if logged_in else "anonymous"]  # alice, or nobody
        sessions_before = await UserSession.all().count()
        form = {"username": "alice", "password": PASSWORD}
        response = await client.post(concrete(route[1], site.bob), form, csrf=False)
        assert response.status_code == 403
        assert "This form has expired" in await response.get_data(as_text=True)
        assert await UserSession.all().count() == sessions_before


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://localhost.evil.example"])
async def test_requests_from_another_origin_are_refused_even_with_a_token(client, alice, origin):
    response = await client.post("/login", {"username": "alice", "password": PASSWORD}, headers={"Origin": origin})
    assert response.status_code == 403
    assert await UserSession.all().count() == 0


async def test_cross_site_fetch_metadata_is_refused_without_origin(client, alice):
    form = {"username": "alice", "password": PASSWORD}
    response = await client.post("/login", form, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


async def test_same_origin_requests_with_the_token_pass(client, alice):
    response = await client.post(
        "/login", {"username": "alice", "password": PASSWORD},
        headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 303


async def test_htmx_sends_the_token_as_a_header(client, alice):
    token = await client.token()
    response = await client.raw.post(
        "/login", form={"username": "alice", "password": PASSWORD},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/chat"


async def test_a_wrong_token_is_refused(client, alice):
    await client.token()
    response = await client.post("/login", {"username": "alice", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403


async def test_the_token_changes_at_login(client, alice):
    before = await client.token()
    await client.login("alice")
    assert await client.token() != before


async def test_get_never_writes(client, alice):
    await client.login("alice")
    row = await UserSession.get(user=alice)
    await client.get(f"/account/sessions/{row.id}/delete")
    await client.get("/logout")
    assert await UserSession.exists(id=row.id)


# --- headers and cookies -------------------------------------------------------------------------

async def test_pages_carry_hardening_headers(client):
    response = await client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


async def test_auth_cookie_is_httponly_lax_without_domain_and_not_secure_on_plain_http(client, alice):
    response = await client.post("/login", {"username": "alice", "password": PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("huddle_auth="))
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "domain=" not in lowered
    assert "secure" not in lowered.replace("samesite", "")


async def test_cookies_are_secure_when_served_over_https(settings):
    app = create_app(settings.replace(base_url="https://chat.example.com"))
    async with app.test_app():
        await User.create(username="alice", username_key="alice", email="a@example.com",
                          password_hash=await hashing.hash_password(PASSWORD))
        client = app.test_client()
        host = {"Host": "chat.example.com"}
        page = await client.get("/login", scheme="https", headers=host)
        token = (await page.get_data(as_text=True)).split('"X-CSRF-Token": "')[1].split('"')[0]
        response = await client.post(
            "/login", form={"username": "alice", "password": PASSWORD, "csrf_token": token}, scheme="https",
            headers=host,
        )
        assert response.status_code == 303
        for cookie in response.headers.getlist("Set-Cookie"):
            assert "; Secure" in cookie


# --- passwords ----------------------------------------------------------------------------------

def argon2_parameters(password_hash: str) -> dict[str, int]:
    return {key: int(value) for key, value in (part.split("=") for part in password_hash.split("$")[3].split(","))}


async def test_passwords_are_stored_with_salted_argon2id_at_owasp_strength():
    hashing.configure(Settings().argon2_memory_kib)  # the production default, not the tests' cheap cost
    first, second = await hashing.hash_password(PASSWORD), await hashing.hash_password(PASSWORD)
    assert first != second
    assert first.startswith("$argon2id$")
    assert argon2_parameters(first) == {"m": 19456, "t": 2, "p": 1}


def test_the_argon2_cost_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("HUDDLE_ARGON2_MEMORY_KIB", raising=False)
    assert Settings.from_env().argon2_memory_kib == 19456
    monkeypatch.setenv("HUDDLE_ARGON2_MEMORY_KIB", "4096")
    assert Settings.from_env().argon2_memory_kib == 4096


@pytest.mark.parametrize("memory_kib", [ARGON2_MEMORY_KIB, 2 * ARGON2_MEMORY_KIB])
async def test_the_app_hashes_at_its_configured_cost_and_unknown_users_cost_the_same(settings, memory_kib):
    create_app(settings.replace(argon2_memory_kib=memory_kib))
    real = await hashing.hash_password(PASSWORD)
    assert argon2_parameters(real) == {"m": memory_kib, "t": 2, "p": 1}
    # The verify done for an unknown username runs against a hash of the same cost.
    assert argon2_parameters(hashing._dummy_hash()) == argon2_parameters(real)
    assert await hashing.verify_password(PASSWORD, None) is False


# --- errors -------------------------------------------------------------------------------------

async def test_missing_pages_get_a_404_in_the_site_layout(client):
    response = await client.get("/no/such/page")
    html = await response.get_data(as_text=True)
    assert response.status_code == 404 and "Not found" in html and 'class="site-header"' in html


async def test_a_crash_shows_a_plain_500_page_and_logs_the_traceback(settings, caplog):
    app = create_app(settings)

    @app.get("/boom")
    async def boom():
        raise RuntimeError("secret detail")

    async with app.test_app():
        with caplog.at_level(logging.ERROR):
            response = await app.test_client().get("/boom")
    html = await response.get_data(as_text=True)
    assert response.status_code == 500 and "Something went wrong" in html
    assert "secret detail" not in html and "Traceback" not in html
    assert "secret detail" in caplog.text


async def test_line_breaks_cannot_forge_log_lines(settings, caplog):
    app = create_app(settings)

    @app.get("/boom/<path:rest>")
    async def boom(rest):
        raise RuntimeError("x")

    async with app.test_app():
        with caplog.at_level(logging.ERROR):
            await app.test_client().get("/boom/a%0AINFO forged line")
    assert "\nINFO forged line" not in caplog.text


async def test_oversized_bodies_are_refused(client):
    response = await client.post("/login", {"username": "x" * (2 * 1024 * 1024), "password": "y"})
    assert response.status_code == 413


async def test_passwords_never_reach_the_log(client, alice, caplog):
    with caplog.at_level(logging.DEBUG):
        await client.post("/login", {"username": "alice", "password": "my secret guess"})
        await client.login("alice")
    assert "my secret guess" not in caplog.text and PASSWORD not in caplog.text



async def test_the_login_throttle_forgets_stale_names_instead_of_growing_forever():
    from app.web.throttle import MemoryLimiter

    now = [0.0]
    limiter = MemoryLimiter(limit=3, window=10, clock=lambda: now[0])
    limiter.MAX_KEYS = 100
    for n in range(100):
        await limiter.fail(f"user{n}")
    now[0] = 11  # all of those failures are now outside the window
    await limiter.fail("fresh")
    assert len(limiter._hits) == 1
    for _ in range(2):
        await limiter.fail("fresh")
    assert await limiter.retry_after("fresh") == 10
