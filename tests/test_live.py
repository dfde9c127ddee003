"""The page websocket: who may connect, presence, instant forced logout, and the broker."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from quart.testing.connections import WebsocketDisconnectError

from app.models import User, UserSession
from app.realtime import serving
from app.realtime.broker import Event, MemoryBroker, Overflow
from app.runtime import Runtime
from tests.helpers.live import ORIGIN, closed, hello, live, receive, receive_until, websocket_status


def presence_news(message: str) -> tuple[set[int], set[int]]:
    """(online, offline) user ids of a #live-presence message."""
    def ids(name: str) -> set[int]:
        value = message.split(f'data-{name}="', 1)[1].split('"', 1)[0]
        return {int(uid) for uid in value.split()}
    return ids("online"), ids("offline")


async def next_presence(page) -> tuple[set[int], set[int]]:
    """The next presence message: a change, or the answer to a hello."""
    return presence_news(await receive_until(page, 'id="live-presence"'))


async def nothing_pending(page) -> None:
    """A barrier, not a clock: whatever was published before this reaches the page before the
    answer to a hello, so the next message must be that answer."""
    await hello(page, [])
    message = await receive(page)
    assert 'id="live-presence" data-snapshot data-online=""' in message, message


# --- handshake ----------------------------------------------------------------------------------

async def test_anonymous_sockets_are_refused_with_401(client):
    assert await websocket_status(client, "/live") == 401


@pytest.mark.parametrize("origin", ["https://evil.example", "null", None])
async def test_foreign_null_or_missing_origin_is_refused_before_accept(client, alice, origin):
    await client.login("alice")
    assert await websocket_status(client, "/live", origin=origin) == 403


async def test_a_dead_cookie_cannot_open_a_socket(client, make_client, alice):
    await client.login("alice")
    cookie = client.cookie()
    await client.post("/logout")
    replay = make_client()
    replay.set_cookie(cookie)
    assert await websocket_status(replay, "/live") == 401


# --- presence -----------------------------------------------------------------------------------

async def test_opening_a_page_puts_the_user_online_and_leaving_records_last_seen(app, client, make_client, alice, bob):
    Runtime.of(app).presence.grace_seconds = 0.05
    await client.login("alice")
    watcher = make_client()
    await watcher.login("bob")
    long_ago = datetime(2001, 2, 3, tzinfo=UTC)
    async with live(watcher) as bobs_page:
        async with live(client):
            assert await next_presence(bobs_page) == ({alice.id}, set())
            page = await (await watcher.get("/users/alice")).get_data(as_text=True)
            assert f'class="badge presence online" data-presence-user="{alice.id}">Online<' in page
            # Logging in stamped "last online" already: move it back, so only leaving can set it again.
            await User.filter(id=alice.id).update(last_seen_at=long_ago)
            left_at = datetime.now(UTC)
        assert await next_presence(bobs_page) == (set(), {alice.id})
        offline_at = datetime.now(UTC)
    assert left_at <= (await User.get(id=alice.id)).last_seen_at <= offline_at  # when her last page left
    page = await (await watcher.get("/users/alice")).get_data(as_text=True)
    assert f'class="badge presence offline" data-presence-user="{alice.id}">Offline<' in page


async def test_navigating_between_pages_does_not_flap_presence_for_others(client, make_client, alice, bob):
    await client.login("alice")
    watcher = make_client()
    await watcher.login("bob")
    async with live(watcher) as bobs_page:
        for _ in range(4):  # four ordinary navigations: each closes a socket and opens the next
            async with live(client):
                pass
        assert await next_presence(bobs_page) == ({alice.id}, set())  # she came online once
        await nothing_pending(bobs_page)  # and never went Offline, Online in between


async def test_a_second_tab_does_not_flap_presence(app, client, alice, bob, make_client):
    Runtime.of(app).presence.grace_seconds = 0
    await client.login("alice")
    watcher = make_client()
    await watcher.login("bob")
    async with live(watcher) as bobs_page:
        async with live(client):
            assert await next_presence(bobs_page) == ({alice.id}, set())
            async with live(client):
                pass  # a second tab opens and closes: alice stays online, even with no grace
            await nothing_pending(bobs_page)


async def test_after_many_pages_open_and_close_everyone_is_offline_again(app, client, make_client, alice, bob):
    """The final state, not the first Offline seen: a leak of one page in two would fail here."""
    presence = Runtime.of(app).presence
    presence.grace_seconds = 0
    await client.login("alice")
    for _ in range(10):
        async with live(client), live(client):
            pass
    assert await presence.online([alice.id]) == set()
    watcher = make_client()
    await watcher.login("bob")
    async with live(watcher, presence=[alice.id]) as page:
        pass
    assert presence_news(page.snapshot) == (set(), {alice.id})


async def test_a_page_gets_the_presence_of_the_people_it_shows_and_no_one_else(client, make_client, admin, alice, bob):
    other = make_client()
    await other.login("bob")
    await client.login("alice")
    async with live(other):
        async with live(client, presence=[bob.id, admin.id]) as page:
            assert presence_news(page.snapshot) == ({bob.id}, {admin.id})
            await hello(page, ["1", None, True, {"x": 1}] + [bob.id])  # junk is ignored
            assert await next_presence(page) == ({bob.id}, set())


@pytest.mark.parametrize("frame", ["not json", "[]", '"hello"', '{"type": "hello", "presence": 7}', "{}", "[" * 30_000])
async def test_malformed_frames_are_ignored_and_the_page_stays_live(client, alice, frame):
    await client.login("alice")
    async with live(client) as page:
        await page.send(frame)
        await nothing_pending(page)


# --- forced logout ------------------------------------------------------------------------------

async def test_revoking_a_session_sends_its_pages_to_the_login_page_at_once(client, make_client, alice):
    await client.login("alice")
    phone = make_client()
    await phone.login("alice")
    phone_session = await UserSession.filter(user=alice).order_by("-id").first()
    async with live(phone) as phone_page, live(client) as laptop_page:
        await client.post(f"/account/sessions/{phone_session.id}/delete", htmx=True)
        control = await receive_until(phone_page, 'id="live-control"')
        assert 'data-action="logout"' in control and "reason=revoked" in control
        assert await closed(phone_page)
        await nothing_pending(laptop_page)  # the laptop, whose session lives on, stays


async def test_log_out_everywhere_else_closes_every_other_tab(client, make_client, alice):
    await client.login("alice")
    others = [make_client(), make_client()]
    for other in others:
        await other.login("alice")
    async with live(others[0]) as a, live(others[0]) as a2, live(others[1]) as b, live(client) as mine:
        await client.post("/account/sessions/others/delete", htmx=True)
        for page in (a, a2, b):
            assert "reason=revoked" in await receive_until(page, 'id="live-control"')
            assert await closed(page)
        await nothing_pending(mine)


async def test_logging_out_closes_every_tab_of_that_browser(client, alice):
    await client.login("alice")
    async with live(client) as one, live(client) as two:
        await client.post("/logout")
        for page in (one, two):
            assert 'data-action="logout"' in await receive_until(page, 'id="live-control"')


async def test_a_session_deleted_without_notice_is_caught_by_the_periodic_check(client, alice, monkeypatch):
    monkeypatch.setattr(serving, "RECHECK_SECONDS", 0.05)
    await client.login("alice")
    async with live(client) as page:
        await UserSession.filter(user=alice).delete()  # e.g. by another worker, event lost
        assert "reason=expired" in await receive_until(page, 'id="live-control"')
        assert await closed(page)


async def test_a_page_that_falls_behind_is_closed_with_1013_so_it_reconnects(app, client, alice):
    """The README's promise: a page that stops reading is dropped at 256 queued events."""
    await client.login("alice")
    broker = Runtime.of(app).broker
    async with live(client) as page:
        for n in range(300):  # faster than any socket drains: no await between deliveries
            broker.deliver(Event("presence", f"user:{alice.id}", html=f"<p>{n}</p>"))
        with pytest.raises(WebsocketDisconnectError) as dropped:
            while True:
                await receive(page)
    assert dropped.value.args[0] == 1013


# --- broker ---------------------------------------------------------------------------------------

async def test_a_subscriber_that_falls_behind_is_dropped_without_stalling_others():
    broker = MemoryBroker(queue_limit=4)
    async with broker.subscribe(["room"]) as slow, broker.subscribe(["room"]) as fast:
        received = []
        for n in range(10):
            await broker.publish(Event("note", "room", html=str(n)))
            received.append((await fast.get()).html)
        assert received == [str(n) for n in range(10)]
        with pytest.raises(Overflow):
            await slow.get()
    assert broker.local_topics() == set()


async def test_topics_only_reach_their_subscribers_and_can_change_while_listening():
    broker = MemoryBroker()
    async with broker.subscribe(["user:1"]) as one, broker.subscribe(["user:2"]) as two:
        await broker.publish(Event("note", "user:1", html="hello"))
        assert (await one.get()).html == "hello"
        assert two.queue.empty()
        await two.add("conversation:5")
        await one.remove("user:1")
        await broker.publish(Event("note", "user:1"))
        await broker.publish(Event("note", "conversation:5", seq=3))
        assert one.queue.empty()
        assert (await two.get()).seq == 3
    assert broker.local_topics() == set()


def test_an_event_travels_as_json_unchanged():
    event = Event("message.created", "conversation:3", html="<p>hi</p>", data={"id": 9}, seq=12)
    assert Event.from_json(event.to_json()) == event
    assert json.loads(event.to_json())["seq"] == 12


async def test_the_handshake_sends_nothing_until_the_page_says_hello(client, alice):
    await client.login("alice")
    async with client.raw.websocket("/live", headers=ORIGIN) as page:
        await hello(page, [alice.id])
        assert presence_news(await receive(page)) == ({alice.id}, set())


# --- fragments rendered once, for everyone --------------------------------------------------------

async def test_broadcast_fragments_render_outside_any_request(app, alice):
    """What is published is rendered once, with no request, session or viewer behind it."""
    from quart import render_template

    async with app.app_context():
        assert 'data-online="3 7"' in await render_template("live/_presence.html", online=[3, 7], offline=[])
        assert "reason=revoked" in await render_template("live/_control.html", action="logout", reason="revoked")
        badge = await render_template("accounts/_presence.html", person=alice, online_ids={alice.id})
        assert f'data-presence-user="{alice.id}">Online<' in badge


def test_no_fragment_reads_the_request_or_calls_a_per_viewer_global():
    from pathlib import Path

    from app.config import ROOT

    forbidden = re.compile(r"(?<![\w/])(request\.|session\.|g\.|csrf_token\(|current_account\(|is_online\()")
    for fragment in Path(ROOT / "templates").rglob("_*.html"):
        found = forbidden.search(fragment.read_text())
        assert found is None, f"{fragment.name} uses {found and found.group()}"


# --- how many sockets one browser and one person may hold -----------------------------------------

async def test_past_the_per_session_limit_the_oldest_tab_is_closed_with_4008(app, client, alice):
    Runtime.of(app).socket_limits.per_session = 2
    await client.login("alice")
    async with live(client) as oldest, live(client) as middle:
        async with live(client) as newest:
            with pytest.raises(WebsocketDisconnectError) as closed_oldest:
                while True:
                    await receive(oldest)
            assert closed_oldest.value.args[0] == 4008
            await nothing_pending(middle)
            await nothing_pending(newest)
            assert Runtime.of(app).socket_limits.count(session_id=(await UserSession.get(user=alice)).id) == 2


async def test_past_the_per_user_limit_the_oldest_socket_of_any_device_is_closed(app, make_client, sign_in, alice, bob):
    Runtime.of(app).socket_limits.per_user = 2
    laptop, phone, tablet = await sign_in("alice"), await sign_in("alice"), await sign_in("alice")
    bobs = await sign_in("bob")
    async with live(laptop) as first, live(phone) as second, live(bobs) as bobs_page:
        async with live(tablet) as third:
            with pytest.raises(WebsocketDisconnectError) as closed_first:
                while True:
                    await receive(first)
            assert closed_first.value.args[0] == 4008
            assert await next_presence(second) == ({bob.id}, set())  # bob came online after it
            for page in (second, third, bobs_page):  # bob is someone else: untouched
                await nothing_pending(page)
    assert Runtime.of(app).socket_limits.count(user_id=alice.id) == 0


async def test_live_sockets_send_without_quarts_per_frame_round_trip(settings):
    """The fan-out path sends through the accepted socket's ASGI send (Quart's private `_send`),
    skipping the `asyncio.sleep(0)` Quart's public send does per frame: if Quart renames it,
    this fails (and direct_sender would quietly fall back to the slower public send)."""
    from quart import websocket

    from app import create_app
    from app.compat import direct_sender

    app = create_app(settings)
    seen = {}

    @app.websocket("/probe")
    async def probe():
        await websocket.accept()
        send = direct_sender(websocket)
        seen["private"] = send == websocket._get_current_object()._send  # not the public send
        await send("through the direct sender")

    async with app.test_app():
        async with app.test_client().websocket("/probe", headers={"Origin": "http://localhost"}) as socket:
            assert await socket.receive() == "through the direct sender"
    assert seen["private"] is True
