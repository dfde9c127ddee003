"""The page websocket: who may connect, presence, and instant forced logout."""
from __future__ import annotations

import pytest

from app.live.broker import MemoryBroker, Overflow
from app.models import User, UserSession
from tests.helpers.live import ORIGIN, closed, live, receive_until, websocket_status


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

async def test_opening_a_page_puts_the_user_online_for_everyone_and_closing_it_records_last_seen(client, make_client, alice, bob):
    await client.login("alice")
    watcher = make_client()
    await watcher.login("bob")
    async with live(watcher) as bobs_page:
        async with live(client):
            online = await receive_until(bobs_page, f'id="user-{alice.id}-presence"')
            assert "Online" in online and "Offline" not in online
            page = await (await watcher.get("/users/alice")).get_data(as_text=True)
            assert "<dd>Yes</dd>" in page
        offline = await receive_until(bobs_page, f'id="user-{alice.id}-presence"')
        assert "Offline" in offline
    assert (await User.get(id=alice.id)).last_seen_at is not None
    page = await (await watcher.get("/users/alice")).get_data(as_text=True)
    assert "<dd>No</dd>" in page


async def test_a_second_tab_does_not_flap_presence(client, alice, bob, make_client):
    await client.login("alice")
    watcher = make_client()
    await watcher.login("bob")
    async with live(watcher) as bobs_page:
        async with live(client):
            await receive_until(bobs_page, f'id="user-{alice.id}-presence"')
            async with live(client):
                pass  # a second tab opens and closes: alice stays online
            with pytest.raises(TimeoutError):
                await receive_until(bobs_page, f'id="user-{alice.id}-presence"', timeout=0.3)


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
        # The laptop, whose session lives on, is not logged out.
        with pytest.raises(TimeoutError):
            await receive_until(laptop_page, 'data-action="logout"', timeout=0.3)


async def test_log_out_everywhere_else_closes_every_other_tab(client, make_client, alice):
    await client.login("alice")
    others = [make_client(), make_client()]
    for other in others:
        await other.login("alice")
    async with live(others[0]) as a, live(others[0]) as a2, live(others[1]) as b:
        await client.post("/account/sessions/others/delete", htmx=True)
        for page in (a, a2, b):
            assert "reason=revoked" in await receive_until(page, 'id="live-control"')


async def test_logging_out_closes_every_tab_of_that_browser(client, alice):
    await client.login("alice")
    async with live(client) as one, live(client) as two:
        await client.post("/logout")
        for page in (one, two):
            assert 'data-action="logout"' in await receive_until(page, 'id="live-control"')


async def test_a_session_deleted_without_notice_is_caught_on_the_next_frame(client, alice):
    await client.login("alice")
    async with live(client) as page:
        await UserSession.filter(user=alice).delete()  # e.g. by another worker, event lost
        await page.send("anything")
        assert "reason=expired" in await receive_until(page, 'id="live-control"')


async def test_a_reconnecting_page_catches_up_on_everyones_presence(client, make_client, alice, bob):
    other = make_client()
    await other.login("bob")
    await client.login("alice")
    async with live(other):
        async with client.raw.websocket("/live", headers=ORIGIN) as page:
            snapshot = await receive_until(page, f'id="user-{bob.id}-presence"')
    assert f'<span id="user-{bob.id}-presence" class="badge online">' in snapshot
    assert 'class="badge offline">' in snapshot  # the admin, who has no page open


# --- broker ---------------------------------------------------------------------------------------

async def test_a_subscriber_that_falls_behind_is_dropped_without_stalling_others():
    broker = MemoryBroker(queue_limit=4)
    slow, fast = broker.subscribe(["room"]), broker.subscribe(["room"])
    received = []
    for n in range(10):
        await broker.publish("room", str(n))
        received.append((await fast.get())[1])
    assert received == [str(n) for n in range(10)]
    with pytest.raises(Overflow):
        await slow.get()
    slow.close()
    fast.close()
    assert broker.subscriber_count("room") == 0


async def test_topics_only_reach_their_subscribers():
    broker = MemoryBroker()
    with broker.subscribe(["user:1"]) as one, broker.subscribe(["user:2"]) as two:
        await broker.publish("user:1", "hello")
        assert await one.get() == ("user:1", "hello")
        assert two.queue.empty()
