"""Presence and rate limits shared by workers through the real Redis (127.0.0.1:6379): two
instances stand for two workers. Skipped where Redis is missing, except in CI (fails)."""
from __future__ import annotations

import asyncio
import os

import pytest
import redis.asyncio as redis

from app.realtime.redis_presence import RedisPresence
from app.runtime import Runtime
from app.web.throttle import RedisLimiter
from tests.helpers.redis import URL
from tests.helpers.redis import prefix as redis_prefix


@pytest.fixture
def client(redis_client):
    return redis_client


@pytest.fixture
def prefix() -> str:
    return redis_prefix()


class Announcer:
    """Records each "went offline" announcement, from whichever worker makes it."""

    def __init__(self) -> None:
        self.offline: list[int] = []
        self.seen = asyncio.Event()

    async def __call__(self, user_id: int) -> None:
        self.offline.append(user_id)
        self.seen.set()


@pytest.fixture
async def workers(client, prefix):
    announcer = Announcer()
    now = [1_000_000.0]
    made = [RedisPresence(client, 0.05, announcer, prefix=prefix + "presence:", clock=lambda: now[0])
            for _ in range(2)]
    yield made[0], made[1], announcer, now
    for presence in made:
        await presence.close()


async def settle(presence: RedisPresence) -> None:
    """Wait until the grace timers and their Redis work are done (no clock: state, then tasks)."""
    async with asyncio.timeout(3):
        while presence._leaving or presence._tasks:  # noqa: ASYNC110 - waiting on our own timers
            await asyncio.sleep(0.01)


async def test_someone_online_on_one_worker_is_online_for_the_other(workers):
    a, b, announcer, _ = workers
    assert await a.connect(7) is True          # came online: announce it
    assert await b.online([7, 8]) == {7}
    assert await b.connect(7) is False         # already online (on a): no second announcement
    await a.disconnect(7)
    await settle(a)
    assert announcer.offline == [] and await a.online([7]) == {7}  # still on b
    await b.disconnect(7)
    await settle(b)
    assert announcer.offline == [7]            # announced once, by the worker that saw the last go
    assert await a.online([7]) == set()


async def test_moving_from_a_page_on_one_worker_to_one_on_another_is_not_leaving(workers):
    a, b, announcer, _ = workers
    assert await a.connect(7) is True
    await a.disconnect(7)                      # the old page closes...
    assert await b.connect(7) is False         # ...the new one opens on the other worker in time
    await settle(a)
    assert announcer.offline == [] and await a.online([7]) == {7}


async def test_a_killed_workers_users_go_offline_by_themselves(workers, client, prefix):
    a, b, announcer, now = workers
    assert await a.connect(7) is True
    a._sockets.clear()                         # a dies: no disconnect, no renewal, nothing
    a._renewer and a._renewer.cancel()
    now[0] += a.ttl - 1
    await b.sweep()
    assert announcer.offline == [] and await b.online([7]) == {7}  # its claim has not expired yet
    now[0] += 2
    assert await b.online([7]) == set()
    await b.sweep()
    await b.sweep()                            # a second sweep (or another worker's) says nothing more
    assert announcer.offline == [7]


async def test_a_living_worker_renews_its_claims(workers):
    a, b, announcer, now = workers
    await a.connect(7)
    for _ in range(5):
        now[0] += a.ttl - 5
        await a.renew()
        await b.sweep()
    assert announcer.offline == [] and await b.online([7]) == {7}


async def test_without_redis_presence_falls_back_to_this_worker(prefix):
    broken = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    presence = RedisPresence(broken, 0.05, prefix=prefix)
    try:
        assert await presence.connect(3) is True
        assert await presence.online([3, 4]) == {3}
    finally:
        await presence.close()
        await broken.aclose()


# --- rate limits --------------------------------------------------------------------------------------

async def test_a_limit_counted_on_one_worker_holds_on_the_other(client, prefix):
    a = RedisLimiter(client, prefix + "limit:login:", limit=3, window=60)
    b = RedisLimiter(client, prefix + "limit:login:", limit=3, window=60)
    for _ in range(2):
        await a.fail("alice|10.0.0.1")
    assert await b.retry_after("alice|10.0.0.1") is None
    await b.fail("alice|10.0.0.1")
    wait = await a.retry_after("alice|10.0.0.1")
    assert wait is not None and 0 < wait <= 60
    assert await a.retry_after("bob|10.0.0.1") is None
    await b.reset("alice|10.0.0.1")
    assert await a.retry_after("alice|10.0.0.1") is None


async def test_failures_leave_the_window(client, prefix):
    now = [100.0]
    limiter = RedisLimiter(client, prefix + "limit:x:", limit=2, window=10, clock=lambda: now[0])
    await limiter.fail("k")
    now[0] = 105
    await limiter.fail("k")
    assert await limiter.retry_after("k") == 5   # the first failure leaves the window at 110
    now[0] = 111
    assert await limiter.retry_after("k") is None
    assert 0 < await client.ttl(prefix + "limit:x:k") <= 11  # keys expire with their window


async def test_without_redis_the_limit_is_not_applied_rather_than_locking_everyone_out(prefix, caplog):
    broken = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    limiter = RedisLimiter(broken, prefix, limit=1, window=60)
    try:
        await limiter.fail("k")
        assert await limiter.retry_after("k") is None
    finally:
        await broken.aclose()
    assert "not counted" in caplog.text and "not checked" in caplog.text


async def test_an_app_with_a_redis_broker_shares_its_limits_and_presence(settings, client, prefix):
    from app import create_app

    app = create_app(settings.replace(broker_url=URL, redis_prefix=prefix))
    assert isinstance(Runtime.of(app).limiters.login_user, RedisLimiter)
    assert Runtime.of(app).limiters.login_user.prefix == prefix + "limit:login_limiter_user:"
    assert isinstance(Runtime.of(app).presence, RedisPresence)


async def test_coming_back_before_the_sweep_noticed_the_old_claim_expire_is_announced_and_sticks(workers):
    """ana's worker died; her claim expired but no sweep has run yet (she is still listed). She
    opens a page on another worker: that is "online" news, and the next sweep must not then
    take her offline."""
    a, b, announcer, now = workers
    await a.connect(7)
    a._sockets.clear()
    a._renewer and a._renewer.cancel()
    now[0] += a.ttl + 1                          # a's claim is dead, ana still listed online
    assert await b.connect(7) is True            # announced: pages may be showing her offline
    await b.sweep()
    await a.sweep()
    assert announcer.offline == [] and await a.online([7]) == {7}


async def test_an_account_added_from_the_command_line_reaches_every_worker_s_pages(client, prefix, tmp_path):
    """The command line has no reader of its own, but with Redis configured its events (here:
    the team changed) reach the workers, whose pages fetch their lists of people again."""
    import json
    import subprocess
    import sys

    from app.config import ROOT
    from tests.helpers import ARGON2_MEMORY_KIB

    env = dict(os.environ, HUDDLE_DATA_DIR=str(tmp_path), HUDDLE_DATABASE_URL="", HUDDLE_BROKER_URL=URL,
               HUDDLE_REDIS_PREFIX=prefix, HUDDLE_ARGON2_MEMORY_KIB=str(ARGON2_MEMORY_KIB))
    run = lambda *args, stdin="": subprocess.run(  # noqa: E731
        [sys.executable, "-m", "app", *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True)
    assert run("migrate").returncode == 0
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(prefix + "presence")
    try:
        made = await asyncio.to_thread(run, "create-user", "cleo", "cleo@example.com", "--password-stdin",
                                       stdin="long enough pw\n")
        assert made.returncode == 0, made.stderr
        message = None
        for _ in range(10):  # at most ~5 s: get_message returns None each half second without one
            message = await pubsub.get_message(timeout=0.5)
            if message is not None:
                break
        assert message is not None, "the command line published nothing"
        assert json.loads(message["data"])["kind"] == "people"
    finally:
        await pubsub.aclose()
