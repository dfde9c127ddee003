"""The live channel on the real server (Hypercorn, hypercorn.toml): limits that only it enforces."""
from __future__ import annotations

import asyncio
import json
import re
import urllib.request

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.helpers import PASSWORD
from tests.helpers.server import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # No grace period: a closed page's user goes offline at once, so leaks show at once.
    server = Server(tmp_path_factory.mktemp("live-server"), HUDDLE_PRESENCE_GRACE_SECONDS="0")
    server.create_user("kim", PASSWORD)
    server.create_user("lee", PASSWORD)
    yield server
    server.stop()


def open_page(server, cookie: str, origin: str | None = None):
    headers = {"Cookie": cookie, "Origin": origin or server.url}
    return connect(server.url.replace("http", "ws") + "/live", additional_headers=headers)


async def say_hello(page, presence=()) -> str:
    """What huddle.js does on open; the answer (a presence snapshot) means the page is live."""
    await page.send(json.dumps({"type": "hello", "presence": list(presence)}))
    while "data-snapshot" not in (message := await page.recv()):
        pass
    return message


def user_id(server, cookie: str, name: str) -> int:
    request = urllib.request.Request(f"{server.url}/users/{name}", headers={"Cookie": cookie})
    page = urllib.request.urlopen(request).read().decode()
    return int(re.search(r'data-presence-user="(\d+)"', page).group(1))


async def wait_closed(socket) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(5):
            while True:
                await socket.recv()
    return closed.value.rcvd.code if closed.value.rcvd else 1006


async def test_an_oversized_frame_closes_the_socket(server):
    async with open_page(server, server.login_cookie("kim", PASSWORD)) as page:
        await say_hello(page)
        await page.send("x" * 100_000)  # hypercorn.toml allows 64 KiB
        assert await wait_closed(page) == 1009


async def test_a_flooding_page_is_cut_off_while_others_keep_their_updates(server):
    lee = server.login_cookie("lee", PASSWORD)
    async with open_page(server, lee) as calm:
        await say_hello(calm)
        async with open_page(server, server.login_cookie("kim", PASSWORD)) as flood:
            await say_hello(flood)
            try:
                for _ in range(500):
                    await flood.send("typing")
                    await asyncio.sleep(0)
            except ConnectionClosed:
                pass
            assert await wait_closed(flood) == 1008
        # kim's socket is gone, so kim goes offline: the calm page hears it.
        kim_id = user_id(server, lee, "kim")
        async with asyncio.timeout(5):
            while f'data-offline="{kim_id}"' not in await calm.recv():
                pass


@pytest.mark.parametrize("origin", ["https://evil.example", "null"])
async def test_a_foreign_origin_is_refused_at_the_handshake(server, origin):
    with pytest.raises(InvalidStatus) as refused:
        async with open_page(server, server.login_cookie("kim", PASSWORD), origin=origin):
            pass
    assert refused.value.response.status_code == 403


async def test_an_anonymous_handshake_gets_401(server):
    with pytest.raises(InvalidStatus) as refused:
        async with open_page(server, ""):
            pass
    assert refused.value.response.status_code == 401


async def test_pages_closed_at_once_leave_nobody_online(server):
    """Navigating away right after load closes the socket mid-handshake, at any await of the
    handler: however many pages do it, their user ends up offline (the final state is checked,
    so a leak of one page in many fails)."""
    lee = server.login_cookie("lee", PASSWORD)
    kim = server.login_cookie("kim", PASSWORD)
    kim_id = user_id(server, lee, "kim")
    for _ in range(20):
        page = await open_page(server, kim)
        await page.close()  # without reading a thing
        async with open_page(server, kim) as page:
            await page.send(json.dumps({"type": "hello", "presence": [kim_id]}))
            # and one closed right after saying hello, before the answer
    snapshot = ""
    async with asyncio.timeout(5):
        while f'data-offline="{kim_id}"' not in snapshot:  # the server sees the closes soon
            async with open_page(server, lee) as fresh:
                snapshot = await say_hello(fresh, [kim_id])


async def test_the_live_socket_declines_permessage_deflate(server):
    """Every browser offers it; per socket it tripled the server's memory (see app/compat.py)."""
    async with open_page(server, server.login_cookie("kim", PASSWORD)) as page:
        assert page.request.headers.get("Sec-WebSocket-Extensions")  # offered
        assert page.response.headers.get("Sec-WebSocket-Extensions") is None  # declined
        await say_hello(page)
