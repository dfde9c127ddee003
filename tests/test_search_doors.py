"""Every door to search (the page, the header's as-you-type panel, REST, the JSON websocket) asks
app/search/service.search and shows what it answers: only messages the reader may read, the same
for everyone, administrators included; no input, however odd, gets a server error; a message is
text, never markup. The matching itself is tested beside the engine (tests/test_search*.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from app.chat import service as chat
from app.models import Conversation, Message
from tests.helpers.api import Api, act, api_login, json_socket
from tests.helpers.chat import lift_posting_limit


@dataclass
class World:
    general: Conversation
    secret: Conversation  # alice's closed room: bob and the admin are not in it
    plan: Message  # alice's, in #general
    hidden: Message  # alice's, in the closed room
    script: Message  # bob's, in #general: markup as text


@pytest.fixture
async def world(app, admin, alice, bob, general) -> World:
    async with app.app_context():
        secret = await chat.create_room(alice, "secret", "", is_open=False)
        plan = await chat.post(alice, general, "The deploy plan is ready")
        hidden = await chat.post(alice, secret, "deploy the secret thing")
        script = await chat.post(bob, general, "<script>alert(1)</script> deploy now")
    return World(general, secret, plan, hidden, script)


def permalink(message: Message) -> str:
    return f"/chat/{message.conversation_id}/messages/{message.id}"


async def page(client, path: str, status: int = 200, **headers) -> str:
    response = await client.get(path, headers=headers)
    body = await response.get_data(as_text=True)
    assert response.status_code == status, body[:500]
    return body


# --- who may search -------------------------------------------------------------------------------

async def test_anonymous_visitors_are_sent_to_log_in(client, world):
    assert (await client.get("/search?q=deploy")).status_code == 401
    status, body, _ = await Api(client.app).get("/api/v1/search?q=deploy")
    assert status == 401 and body["error"]["code"]


async def test_the_page_shows_what_matches_with_where_who_when_and_the_match_marked(client, alice, world):
    await client.login("alice")
    body = await page(client, "/search?q=deploy")
    assert permalink(world.plan) in body and permalink(world.hidden) in body  # alice is in both
    assert "#general" in body and "#secret" in body
    assert re.search(r"<mark>deploy</mark>", body, re.I)
    assert f'datetime="{world.plan.created_at.isoformat()}"' in body
    assert body.index(permalink(world.script)) < body.index(permalink(world.plan)), "newest first"
    assert 'href="/search?q=deploy&amp;order=relevant"' in body
    assert "How to search" in body and "from:name" in body and "has:link" in body


async def test_someone_outside_a_closed_room_never_finds_its_messages(client, bob, world):
    await client.login("bob")
    body = await page(client, "/search?q=deploy")
    assert permalink(world.plan) in body and permalink(world.hidden) not in body and "#secret" not in body
    await page(client, f"/search?q=deploy&in={world.secret.id}", 404)
    api = await api_login(client.app, "bob")
    status, answer, _ = await api.get("/api/v1/search?q=deploy")
    assert status == 200 and world.hidden.id not in [m["id"] for m in answer["data"]["messages"]]
    status, answer, _ = await api.get(f"/api/v1/search?q=deploy&conversation_id={world.secret.id}")
    assert status == 404 and answer["error"]["code"] == "not_found"


async def test_an_administrator_finds_only_what_they_may_read(client, admin, world):
    await client.login("admin")
    body = await page(client, "/search?q=secret")
    assert permalink(world.hidden) not in body and "No messages match" in body
    await page(client, f"/search?q=deploy&in={world.secret.id}", 404)
    api = await api_login(client.app, "admin")
    status, answer, _ = await api.get("/api/v1/search?q=deploy")
    assert status == 200 and world.hidden.id not in [m["id"] for m in answer["data"]["messages"]]


async def test_a_member_removed_from_a_closed_room_stops_finding_it_at_once(app, client, alice, bob, world):
    async with app.app_context():
        await chat.add_member(alice, world.secret, "bob")
    await client.login("bob")
    assert permalink(world.hidden) in await page(client, "/search?q=secret")
    async with app.app_context():
        await chat.remove_member(alice, world.secret, bob)
    assert permalink(world.hidden) not in await page(client, "/search?q=secret")


# --- what a person sees -----------------------------------------------------------------------------

async def test_a_message_with_markup_shows_as_text(client, alice, world):
    await client.login("alice")
    body = await page(client, "/search?q=alert")
    assert "<script>alert" not in body and "&lt;script&gt;" in body


async def test_the_header_of_every_signed_in_page_has_the_search_field(client, alice, world):
    await client.login("alice")
    body = await page(client, f"/chat/{world.general.id}")
    assert re.search(r'<form class="site-search" role="search" aria-label="Search" method="get" action="/search"', body)
    assert 'hx-sync="this:replace"' in body and 'hx-target="#search-panel"' in body
    assert f'href="/search?in={world.general.id}"' in body, "the conversation's header searches inside it"
    assert 'role="search"' not in await page(client.__class__(client.app), "/login")


async def test_as_you_type_the_panel_gets_a_fragment_and_a_link_to_all_results(client, alice, world):
    await client.login("alice")
    body = await page(client, "/search?q=depl&panel=1", **{"HX-Request": "true"})
    assert "<html" not in body and "<mark>" in body and 'href="/search?q=depl"' in body
    assert (await page(client, "/search?q=&panel=1", **{"HX-Request": "true"})).strip() == ""


async def test_nothing_found_says_so_with_help(client, alice, world):
    await client.login("alice")
    body = await page(client, "/search?q=zebra")
    assert "No messages match" in body and "How to search" in body


async def test_searching_inside_a_conversation_says_so_and_can_widen(client, alice, world):
    await client.login("alice")
    body = await page(client, f"/search?q=deploy&in={world.general.id}")
    assert "Search in #general" in body and "Find messages in #general" in body
    assert permalink(world.plan) in body and permalink(world.hidden) not in body
    assert 'href="/search?q=deploy">Search all conversations' in body


async def test_older_results_page_by_cursor_with_no_cap(app, client, alice, world):
    lift_posting_limit(app)
    async with app.app_context():
        for n in range(45):
            await chat.post(alice, world.general, f"lunch number {n}")
    await client.login("alice")
    seen, path = [], "/search?q=lunch"
    for _ in range(5):
        body = await page(client, path)
        seen += re.findall(r"</mark> number (\d+)", body)
        older = re.search(r'class="search-older".*?href="([^"]+)"', body, re.S)
        if not older:
            break
        path = older.group(1).replace("&amp;", "&")
        fragment = await page(client, path, **{"HX-Request": "true"})
        assert "<html" not in fragment and "</mark> number" in fragment
    assert sorted(map(int, seen)) == list(range(45)), "every match, a page at a time, none twice"


async def test_most_relevant_is_the_other_order(client, alice, world):
    await client.login("alice")
    body = await page(client, "/search?q=deploy&order=relevant")
    assert '<a aria-current="true" href="/search?q=deploy&amp;order=relevant">Most relevant' in body
    assert '<input type="hidden" name="order" value="relevant">' in body


# --- never a server error -----------------------------------------------------------------------------

BAD_QUERIES = ["x" * 2000, "a\x00b", "\ud800", "x\udfffy", "AND OR NOT NEAR(", '"unclosed', "*^()",
               "from: in: before:x", "before:2026-13-45", "😀" * 50, "-", "in:#nowhere", "\x01\x1b[31m"]


@pytest.mark.parametrize("q", BAD_QUERIES, ids=range(len(BAD_QUERIES)))
async def test_no_query_gets_a_server_error_on_any_door(client, alice, world, q):
    await client.login("alice")
    response = await client.get("/search", query_string={"q": q.encode("utf-8", "surrogatepass")})
    assert response.status_code < 500
    api = await api_login(client.app, "alice")
    status, _, _ = await api.get("/api/v1/search", query_string={"q": q.encode("utf-8", "surrogatepass")})
    assert status in (200, 422)
    async with json_socket(client.app) as socket:
        await act(socket, "auth", {"token": api.token})
        answer = await act(socket, "search", {"q": q})
        assert "data" in answer or "error" in answer


@pytest.mark.parametrize("args", ["before=zzz", "before=-1", "before=99999999999999999999", "before=%00", "limit=abc",
                                  "order=sideways", "in=abc", "in=-4", "in=99999999999", "conversation_id=0"])
async def test_bad_cursors_orders_and_scopes_are_no_server_error(client, alice, world, args):
    await client.login("alice")
    response = await client.get(f"/search?q=deploy&{args}")
    assert response.status_code in (200, 404, 422)


@pytest.mark.parametrize("args, field", [("limit=0", "limit"), ("limit=101", "limit"), ("limit=x", "limit"),
                                         ("order=sideways", "order"), ("conversation_id=0", "conversation_id"),
                                         ("q=" + "x" * 2001, "q")])
async def test_the_api_refuses_bad_values_naming_the_field(client, alice, world, args, field):
    api = await api_login(client.app, "alice")
    status, body, _ = await api.get(f"/api/v1/search?{args}")
    assert status == 422 and field in (body["error"].get("fields") or {}), body


# --- for programs ---------------------------------------------------------------------------------

async def test_the_api_answers_messages_in_their_usual_shape_with_a_snippet(client, alice, world):
    api = await api_login(client.app, "alice")
    status, body, _ = await api.get("/api/v1/search?q=deploy&limit=2")
    assert status == 200 and set(body["data"]) == {"messages", "older"}
    first = body["data"]["messages"][0]
    _, usual, _ = await api.get(f"/api/v1/conversations/{world.general.id}/messages?limit=1")
    assert set(first) == set(usual["data"]["messages"][0]) | {"snippet"}
    assert "<mark>" in first["snippet"] and "&lt;script&gt;" in first["snippet"]
    assert body["data"]["older"] is not None
    status, rest, _ = await api.get(f"/api/v1/search?q=deploy&limit=2&before={body['data']['older']}")
    assert status == 200 and [m["id"] for m in rest["data"]["messages"]] == [world.plan.id]
    assert rest["data"]["older"] is None


async def test_the_json_websocket_searches_with_the_same_answer(client, alice, world):
    api = await api_login(client.app, "alice")
    _, rest, _ = await api.get("/api/v1/search?q=deploy")
    async with json_socket(client.app) as socket:
        await act(socket, "auth", {"token": api.token})
        answer = await act(socket, "search", {"q": "deploy"})
        assert [(m["id"], m["text"], m["snippet"]) for m in answer["data"]["messages"]] == [
            (m["id"], m["text"], m["snippet"]) for m in rest["data"]["messages"]]
        assert set(answer["data"]["messages"][0]) == set(rest["data"]["messages"][0])
        assert answer["data"]["older"] == rest["data"]["older"]
        closed = await act(socket, "search", {"q": "deploy", "conversation_id": 999999})
        assert "error" in closed
        assert "limit" in (await act(socket, "search", {"q": "x", "limit": 0})).get("fields", {})
        assert "order" in (await act(socket, "search", {"q": "x", "order": "up"})).get("fields", {})


async def test_the_api_docs_list_search(client):
    body = await page(client, "/docs/api")
    assert "/api/v1/search" in body and "<code>search</code>" in body


def test_the_routes_only_call_the_search_service():
    """No rule in a door: the routes and operations reach matching only through service.search."""
    from app.config import ROOT

    for door in ("app/search/routes.py", "app/api/operations.py"):
        code = (ROOT / door).read_text()
        assert "Message.filter" not in code and "MATCH" not in code and "tsvector" not in code


async def test_a_direct_conversation_is_named_by_the_other_people_as_they_are_now(app, client, alice, bob, world):
    async with app.app_context():
        await chat.send_direct(bob, ["alice"], "a quiet quokka")
    await client.login("alice")
    body = await page(client, "/search?q=quokka")
    assert '<span class="search-hit-where">with bob</span>' in body
