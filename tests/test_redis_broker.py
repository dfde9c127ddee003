"""The Redis broker against the real Redis on this machine (127.0.0.1:6379): two brokers stand
for two workers. Skipped where Redis is missing, except in CI (fails)."""
from __future__ import annotations

import asyncio

import pytest

from app.config import Settings
from app.realtime.broker import Event
from app.realtime.redis_broker import RESTART, RedisBroker
from app.startup import build
from tests.helpers.redis import URL, PrivateRedis
from tests.helpers.redis import prefix as redis_prefix


@pytest.fixture
def admin(redis_client):
    """A plain connection of the test's own, to see what the brokers do in Redis."""
    return redis_client


@pytest.fixture
async def workers(admin):
    prefix = redis_prefix()
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


async def test_a_first_subscriber_returns_once_redis_has_confirmed_it(workers, admin):
    """An event published on another connection right after subscribe() reaches it: subscribe()
    waited for Redis's confirmation (redis-py sends SUBSCRIBE without waiting; a publish could
    then reach Redis first, and the full suite once lost one that way)."""
    a, b, prefix = workers
    for n in range(20):
        topic = f"conversation:{900 + n}"
        async with b.subscribe([topic]) as page:
            assert dict(await admin.pubsub_numsub(prefix + topic))[(prefix + topic).encode()] == 1  # no polling
            await a.publish(Event("note", topic, html=str(n)))
            async with asyncio.timeout(5):
                assert (await page.get()).html == str(n)


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


@pytest.mark.parametrize("failed_tries", [0, 3, 1, 5], ids=["short", "long", "short-again", "longer"])
async def test_live_delivery_survives_redis_outages_short_and_long(tmp_path, failed_tries):
    """Redis killed and started again while sockets listen and events are published: while it is
    away the broker reports not ready and keeps trying (for as long as it takes); once it is
    back, every local socket is told to reconnect (1012, then it catches up from the database)
    and new subscriptions hear events again. The attack run's reader died on the second try."""
    private = PrivateRedis(tmp_path)
    private.start()
    broker = RedisBroker(f"redis://127.0.0.1:{private.port}/0", prefix="outage:")
    await broker.start()
    try:
        for round_ in range(2):  # the same broker through two outages in a row
            async with broker.subscribe(["room"]) as page:
                await broker.publish(Event("message.created", "room", data={"round": round_}))
                assert (await asyncio.wait_for(page.get(), 5)).data == {"round": round_}
                tries = broker.failed_tries
                private.stop()
                await broker.publish(Event("message.created", "room", data={"lost": True}))  # never raises
                await until(lambda: _not(broker.ping()), timeout=10)
                wanted = tries + failed_tries
                await until(lambda wanted=wanted: _at_least(broker, wanted), timeout=60)
                assert not await broker.ping()
                private.start()
                told = await asyncio.wait_for(page.get(), 30)
                assert told.close == RESTART
            await until(broker.ping, timeout=10)
            async with broker.subscribe(["room"]) as again:
                await broker.publish(Event("message.created", "room", data={"after": round_}))
                assert (await asyncio.wait_for(again.get(), 5)).data == {"after": round_}
        assert broker.reconnects == 2
    finally:
        await broker.stop()
        private.stop()


async def _not(awaitable) -> bool:
    return not await awaitable


async def _at_least(broker, tries: int) -> bool:
    return broker.failed_tries >= tries
