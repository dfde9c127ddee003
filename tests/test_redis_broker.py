"""The Redis broker against the real Redis on this machine (127.0.0.1:6379): two brokers stand
for two workers. Skipped where Redis is missing, except in CI (fails)."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from app.config import Settings
from app.realtime.broker import Event
from app.realtime.redis_broker import RESTART, RedisBroker
from app.runtime import build
from tests.helpers.redis import URL


@pytest.fixture
def admin(redis_client):
    """A plain connection of the test's own, to see what the brokers do in Redis."""
    return redis_client


@pytest.fixture
async def workers(admin):
    prefix = f"huddle-test-{uuid.uuid4().hex[:8]}:"
    a, b = RedisBroker(URL, prefix=prefix), RedisBroker(URL, prefix=prefix)
    await a.start()
    await b.start()
    yield a, b, prefix
    await a.stop()
    await b.stop()


async def subscribers(admin, channel: str) -> int:
    return dict(await admin.pubsub_numsub(channel))[channel.encode()]


async def until(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():  # noqa: ASYNC110 - polling another process (Redis)
            await asyncio.sleep(0.02)


async def test_an_event_published_on_one_worker_reaches_the_sockets_of_another(workers):
    a, b, _ = workers
    async with b.subscribe(["conversation:1"]) as page:
        await a.publish(Event("message.created", "conversation:1", html="<p>hi</p>", data={"id": 1}, seq=7))
        async with asyncio.timeout(5):
            event = await page.get()
    assert (event.kind, event.html, event.data, event.seq) == ("message.created", "<p>hi</p>", {"id": 1}, 7)


async def test_one_upstream_subscription_per_worker_however_many_sockets(workers, admin):
    a, b, prefix = workers
    channel = prefix + "presence"
    pages = [b.subscribe(["presence"]) for _ in range(25)]
    for page in pages:
        await page.__aenter__()
    await until(lambda: _is(subscribers(admin, channel), 1))
    assert len(await admin.pubsub_channels(prefix + "*")) == 2  # presence + the broker's own
    for page in pages:
        await page.__aexit__(None, None, None)
    await until(lambda: _is(subscribers(admin, channel), 0))  # the last one left: unsubscribed


async def _is(awaitable, value) -> bool:
    return await awaitable == value


async def test_after_losing_redis_the_broker_reconnects_and_its_pages_reconnect_to_catch_up(workers, admin):
    a, b, _ = workers
    async with b.subscribe(["conversation:2"]) as page:
        await admin.client_kill_filter(_type="pubsub")  # Redis drops every pub/sub connection
        async with asyncio.timeout(10):
            event = await page.get()
        assert event.close == RESTART  # the page reconnects and replays from the database
    async with b.subscribe(["conversation:2"]) as page:
        async def delivered() -> bool:
            await a.publish(Event("note", "conversation:2", html="again"))
            try:
                async with asyncio.timeout(0.2):
                    return (await page.get()).html == "again"
            except TimeoutError:
                return False
        await until(delivered, timeout=10)


def test_the_url_chooses_the_broker(tmp_path):
    assert type(build(Settings(data_dir=tmp_path)).broker).__name__ == "MemoryBroker"
    assert isinstance(build(Settings(data_dir=tmp_path, broker_url="redis://127.0.0.1:6379/0")).broker, RedisBroker)
    with pytest.raises(ValueError):
        build(Settings(data_dir=tmp_path, broker_url="kafka://nope"))
