"""What notifications need shared by every worker through the real Redis (127.0.0.1:6379): who
is looking at which conversation (app/realtime/redis_viewing.py; two instances stand for two
workers) and what each person was notified of until they read it (app/notify/shown.py). Skipped
where Redis is missing, except in CI (fails)."""
from __future__ import annotations

import pytest
import redis.asyncio as redis

from app import create_app
from app.notify import shown
from app.realtime.redis_viewing import RedisViewing
from app.runtime import Runtime
from tests.helpers.redis import URL
from tests.helpers.redis import prefix as redis_prefix


@pytest.fixture
def prefix() -> str:
    return redis_prefix()


@pytest.fixture
async def workers(redis_client, prefix):
    now = [1_000_000.0]
    made = [RedisViewing(redis_client, prefix=prefix + "viewing:", ttl=60, clock=lambda: now[0]) for _ in range(2)]
    yield made[0], made[1], now
    for viewing in made:
        await viewing.close()


async def test_a_page_looking_on_one_worker_is_looking_for_the_other(workers):
    a, b, _ = workers
    page = a.key()
    await a.show(page, 7, 3)
    assert await b.watching(3, {7, 8}) == {7} and await b.watching(4, {7}) == set()
    await a.show(page, 7, 4)  # the same page, now on another conversation
    assert await b.watching(3, {7}) == set() and await b.watching(4, {7}) == {7}
    await a.hide(page)  # hidden, or gone
    assert await b.watching(4, {7}) == set()


async def test_a_killed_workers_pages_stop_looking_by_themselves_a_living_ones_do_not(workers):
    a, b, now = workers
    await a.show(a.key(), 7, 3)
    await b.show(b.key(), 8, 3)
    for _ in range(3):
        now[0] += 50
        await b.renew()  # b lives; a was killed and renews nothing
    assert await b.watching(3, {7, 8}) == {8}


async def test_without_redis_looking_falls_back_to_this_worker(prefix):
    broken = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    viewing = RedisViewing(broken, prefix=prefix)
    try:
        await viewing.show(viewing.key(), 3, 9)
        assert await viewing.watching(9, {3, 4}) == {3}
    finally:
        await viewing.close()
        await broken.aclose()


async def test_what_was_shown_is_closed_once_by_a_read_that_reaches_it_on_any_worker(settings, redis_client, prefix):
    apps = [create_app(settings.replace(broker_url=URL, redis_prefix=prefix)) for _ in range(2)]
    assert isinstance(Runtime.of(apps[0]).viewing, RedisViewing)
    try:
        async with apps[0].app_context():
            await shown.mark([7, 8], 3, 10)
            await shown.mark([7], 3, 12)
            await shown.mark([7], 3, 11)  # (an older message's notification, decided late: 12 stays)
        async with apps[1].app_context():
            assert not await shown.take(7, 3, 11)  # read, but not yet what was shown last
            assert await shown.take(7, 3, 12)
            assert not await shown.take(7, 3, 12)  # closed once
            assert await shown.take(8, 3, 10) and not await shown.take(9, 3, 10)
    finally:
        for app in apps:
            await Runtime.of(app).redis.aclose()
