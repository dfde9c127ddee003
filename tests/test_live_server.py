"""The live channel on the real server (Hypercorn, hypercorn.toml): limits that only it enforces."""
from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.helpers import PASSWORD
from tests.helpers.server import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("live-server"))
    server.create_user("kim", PASSWORD)
    server.create_user("lee", PASSWORD)
    yield server
    server.stop()


def open_page(server, cookie: str, origin: str | None = None):
    headers = {"Cookie": cookie, "Origin": origin or server.url}
    return connect(server.url.replace("http", "ws") + "/live", additional_headers=headers)


async def wait_closed(socket) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(5):
            while True:
                await socket.recv()
    return closed.value.rcvd.code if closed.value.rcvd else 1006


async def test_an_oversized_frame_closes_the_socket(server):
    async with open_page(server, server.login_cookie("kim", PASSWORD)) as page:
        await page.recv()  # presence snapshot: connected
        await page.send("x" * 100_000)  # hypercorn.toml allows 64 KiB
        assert await wait_closed(page) == 1009


async def test_a_flooding_page_is_cut_off_while_others_keep_their_updates(server):
    async with open_page(server, server.login_cookie("lee", PASSWORD)) as calm:
        await calm.recv()
        async with open_page(server, server.login_cookie("kim", PASSWORD)) as flood:
            await flood.recv()
            try:
                for _ in range(500):
                    await flood.send("typing")
                    await asyncio.sleep(0)
            except ConnectionClosed:
                pass
            assert await wait_closed(flood) == 1008
        # kim's socket is gone, so kim goes offline: the calm page hears it.
        async with asyncio.timeout(5):
            while "Offline" not in (message := await calm.recv()):
                pass
        assert "presence" in message


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


async def test_a_page_closed_at_once_still_goes_offline_for_others(server):
    """Navigating away right after load closes the socket mid-handshake work: no presence leak."""
    async with open_page(server, server.login_cookie("lee", PASSWORD)) as calm:
        await calm.recv()
        kim = server.login_cookie("kim", PASSWORD)
        for _ in range(5):
            page = await open_page(server, kim)
            await page.close()  # without reading a thing
        async with asyncio.timeout(5):
            seen = []
            while not seen or "Offline" not in seen[-1]:
                message = await calm.recv()
                if "user-1-presence" in message:
                    seen.append(message)
