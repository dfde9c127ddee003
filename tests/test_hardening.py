"""Attacks on a running site that once got through, each tried as a family, not one example."""
from __future__ import annotations

import pytest

from app import create_app
from app.web.urls import id_param, safe_next
from tests.helpers import PASSWORD
from tests.helpers.live import websocket_status

# Each of these, read by a browser, leaves this site (or is not a plain path on it).
OFF_SITE = [
    "//evil.example", "//evil.example/x", "///evil.example", "/\t/evil.example", "/\n/evil.example",
    "/\r\n/evil.example", "\t//evil.example", "\n//evil.example", " //evil.example", "/ /evil.example",
    "/\\evil.example", "\\/evil.example", "\\\\evil.example", "/\\/evil.example", "https://evil.example",
    "http:/evil.example", "http:evil.example", "javascript:alert(1)", "evil.example", "/\x00/evil.example",
    "/\x0b/evil.example", "/\x0c/evil.example", "/\x7f/evil.example", "/\u0085/evil.example",
    "/\u2028/evil.example", "/\u3000/evil.example", "/" + "a" * 3000,
]
ON_SITE = ["/", "/account/sessions", "/users/alice?tab=1#top", "/%09/evil.example", "/users/ünï"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_safe_next_refuses_every_way_off_the_site(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ON_SITE)
def test_safe_next_keeps_paths_on_the_site(target):
    assert safe_next(target) == target


@pytest.mark.parametrize("target", OFF_SITE)
async def test_login_never_sends_anyone_off_the_site(client, make_client, alice, target):
    form = {"username": "alice", "password": PASSWORD, "next": target}
    response = await client.post("/login", form)
    assert (response.status_code, response.headers["Location"]) == (303, "/chat")
    # Already logged in: GET /login?next=... redirects at once; it must not leave either.
    response = await client.get("/login", query_string={"next": target})
    assert (response.status_code, response.headers["Location"]) == (303, "/chat")
    # The htmx login answers with HX-Redirect instead.
    response = await make_client().post("/login", form, htmx=True)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/chat"


LONE_SURROGATE = "\ud800".encode("utf-8", "surrogatepass").decode("latin-1")


@pytest.mark.parametrize("token", ["é", "токен", "\x00", "a" * 5000, "💥", LONE_SURROGATE])
@pytest.mark.parametrize("where", ["form", "header"])
async def test_any_csrf_token_is_refused_with_403_never_a_server_error(client, alice, token, where):
    if where == "form":
        form = {"username": "alice", "password": PASSWORD, "csrf_token": token}
        response = await client.post("/login", form, csrf=False)
    else:
        headers = {"X-CSRF-Token": token.encode("utf-8").decode("latin-1")}
        response = await client.post("/login", {"username": "alice", "password": PASSWORD}, csrf=False, headers=headers)
    assert response.status_code == 403
    assert client.cookie() is None  # and no session was started


async def test_the_csrf_token_in_pages_is_masked_anew_each_time_and_each_mask_is_taken(client, alice):
    """Pages are compressed: a secret constant in every body beside what an attacker can make a page
    echo would leak through the compressed size (BREACH). The token a page carries is masked afresh
    for every response (app/web/security.py masked); any of them is taken, a tampered one is not."""
    import re

    from app.web.security import masked, unmasked

    pages = [await (await client.get("/login")).get_data(as_text=True) for _ in range(3)]
    tokens = [re.search(r'name="csrf_token" value="([^"]+)"', page).group(1) for page in pages]
    assert len(set(tokens)) == 3
    assert len({unmasked(token) for token in tokens}) == 1  # one secret behind three masks
    for token in tokens:
        response = await client.post("/login", {"username": "alice", "password": "wrong", "csrf_token": token},
                                     csrf=False)
        assert response.status_code != 403
    tampered = tokens[0][:-2] + ("AA" if tokens[0][-2:] != "AA" else "BB")
    response = await client.post("/login", {"username": "alice", "password": "x", "csrf_token": tampered},
                                 csrf=False)
    assert response.status_code == 403
    assert unmasked(masked("abc")) == b"abc" and unmasked("not base64!") is None and unmasked("") is None


# --- Host and Origin: compared with HUDDLE_BASE_URL, never with what the request says --------------

@pytest.mark.parametrize("host", ["evil.example", "localhost:8000", "localhost.evil.example", "127.0.0.1", ""])
async def test_requests_for_another_host_name_are_refused(client, host):
    response = await client.get("/register", headers={"Host": host})
    assert response.status_code == 400
    assert "http://localhost" in await response.get_data(as_text=True)  # where to go instead


async def test_dns_rebinding_cannot_register_the_first_admin(client):
    """A page at evil.example, rebound to this server, sends its own name as Host and Origin."""
    headers = {"Host": "evil.example", "Origin": "http://evil.example"}
    response = await client.raw.post(
        "/register", form={"username": "mallory", "email": "m@example.com", "password": PASSWORD,
                           "confirm_password": PASSWORD}, headers=headers,
    )
    assert response.status_code == 400
    from app.models import User
    assert not await User.exists()


@pytest.mark.parametrize("origin", [
    "https://localhost", "http://localhost:80", "http://localhost:8000", "http://LOCALHOST.evil.example",
    "http://evil.example", "null", "http://localhost.", "ws://localhost",
])
async def test_an_origin_that_is_not_exactly_ours_is_refused(client, alice, origin):
    response = await client.post("/login", {"username": "alice", "password": PASSWORD}, headers={"Origin": origin})
    assert response.status_code == 403
    await client.login("alice")
    assert await websocket_status(client, "/live", origin=origin) == 403


async def test_an_http_origin_is_refused_on_an_https_site(settings):
    app = create_app(settings.replace(base_url="https://chat.example.com"))
    async with app.test_app():
        client = app.test_client()
        headers = {"Host": "chat.example.com", "Origin": "http://chat.example.com"}
        response = await client.post(
            "/password/forgot", form={"email": "a@example.com"}, headers=headers, scheme="https"
        )
        assert response.status_code == 403


async def test_trusted_aliases_are_served_with_their_own_origin(settings):
    app = create_app(settings.replace(trusted_hosts=("chat.internal:8443",)))
    async with app.test_app():
        client = app.test_client()
        assert (await client.get("/login", headers={"Host": "chat.internal:8443"})).status_code == 200
        assert (await client.get("/login", headers={"Host": "chat.internal"})).status_code == 400


# --- ids and cursors ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "raw", [None, "", "abc", "1e3", "-1", "0", "1.5", "０１", "²", "٣", " 1", "1 ", str(2**31), "9" * 19, str(2**63),
            "9" * 40]
)
def test_cursor_params_outside_the_id_range_are_ignored(raw):
    assert id_param(raw) is None


@pytest.mark.parametrize("raw,value", [("1", 1), ("42", 42), (str(2**31 - 1), 2**31 - 1)])
def test_cursor_params_inside_the_id_range_are_read(raw, value):
    assert id_param(raw) == value
