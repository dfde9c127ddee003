"""Limits that hold under concurrency: an attempt is counted before the work it limits (an argon2
verify, an account made), in one step with the check, so 60 requests at once get no more through
than 60 in a row; on one worker (MemoryLimiter) and on several sharing Redis (RedisLimiter).
And registration does not tell strangers which addresses are registered."""
from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from app import create_app
from app.domain import RateLimited
from app.models import User, hashing
from app.runtime import Runtime
from app.web.throttle import MemoryLimiter, RedisLimiter
from tests.helpers import PASSWORD
from tests.helpers.accounts import make_user
from tests.helpers.api import Api, act, json_socket
from tests.helpers.client import Client
from tests.helpers.redis import URL, connect

ATTEMPTS = 60


def at(ip: str) -> dict:
    """Request options for a client at this address."""
    return {"scope_base": {"client": (ip, 50000)}}


@pytest.fixture
def verifies(monkeypatch) -> list[str]:
    """The passwords argon2 verified, in order. Each verify takes 50 ms, about argon2's time at
    the production cost: the window in which a check-then-count limit lets everyone through."""
    real, verified = hashing.verify_password, []

    async def counted(password: str, password_hash: str | None) -> bool:
        verified.append(password)
        await asyncio.sleep(0.05)
        return await real(password, password_hash)

    monkeypatch.setattr(hashing, "verify_password", counted)
    return verified


@pytest.fixture
def prefix() -> str:
    return f"huddle-test-{uuid.uuid4().hex[:8]}:"


@pytest.fixture
async def redis_app(settings, redis_client, prefix):
    """An app whose limits live in the real Redis (as with several workers), with alice."""
    app = create_app(settings.replace(broker_url=URL, redis_prefix=prefix))
    async with app.test_app():
        assert isinstance(Runtime.of(app).limiters.login_user, RedisLimiter)
        await make_user("admin", admin=True)
        await make_user("alice")
        yield app
    keys = [key async for key in redis_client.scan_iter(match=prefix + "*")]
    if keys:
        await redis_client.delete(*keys)


async def log_in(app, door: str, username: str, password: str, ip: str) -> int:
    """One login through the page form or the JSON API: its status (303/200 in, 422, 429)."""
    if door == "form":
        response = await Client(app).post("/login", {"username": username, "password": password}, **at(ip))
        return response.status_code
    status, _, _ = await Api(app).post("/api/v1/login", {"username": username, "password": password}, **at(ip))
    return status


def doors(n: int, door: str) -> list[str]:
    """n doors: all one kind, or ("both") the form and the API taking turns."""
    return ["form" if door == "both" and i % 2 else door.replace("both", "api") for i in range(n)]


# --- logging in ------------------------------------------------------------------------------------

@pytest.mark.parametrize("door", ["form", "api", "both"])
async def test_parallel_wrong_passwords_get_no_more_verifies_than_the_limit(app, alice, verifies, door):
    limit = app.config["HUDDLE"].login_failures_per_user  # 5 per user and address
    statuses = await asyncio.gather(*(log_in(app, d, "alice", f"guess {n}", "192.0.2.10")
                                      for n, d in enumerate(doors(ATTEMPTS, door))))
    assert len(verifies) == limit
    assert statuses.count(422) == limit and statuses.count(429) == ATTEMPTS - limit
    # The right password from that address waits too; the owner elsewhere is not locked out.
    assert await log_in(app, "form", "alice", PASSWORD, "192.0.2.10") == 429
    assert await log_in(app, "form", "alice", PASSWORD, "203.0.113.9") == 303


async def test_parallel_guesses_at_many_names_get_no_more_verifies_than_the_address_limit(app, alice, verifies):
    limit = app.config["HUDDLE"].login_failures_per_ip  # 30 per address
    statuses = await asyncio.gather(*(log_in(app, "api", f"name{n}", "a guess", "192.0.2.11")
                                      for n in range(ATTEMPTS)))
    assert len(verifies) == limit and statuses.count(429) == ATTEMPTS - limit
    assert await log_in(app, "api", "alice", PASSWORD, "192.0.2.12") == 200


async def test_a_login_gives_its_place_back(app, alice, verifies):
    limit = app.config["HUDDLE"].login_failures_per_user
    for n in range(limit - 1):
        assert await log_in(app, "form", "alice", f"guess {n}", "192.0.2.20") == 422
    assert await log_in(app, "form", "alice", PASSWORD, "192.0.2.20") == 303
    # The success forgot alice's failures from here: a whole allowance of mistakes again.
    for n in range(limit):
        assert await log_in(app, "form", "alice", f"typo {n}", "192.0.2.20") == 422
    assert await log_in(app, "form", "alice", PASSWORD, "192.0.2.20") == 429
    # Logins that succeed cost the address nothing: an office logs in all day.
    for _ in range(app.config["HUDDLE"].login_failures_per_ip + 1):
        assert await log_in(app, "api", "alice", PASSWORD, "192.0.2.21") == 200


async def test_people_logging_in_at_once_all_get_in(app, alice, verifies):
    """Reserving counts the attempts under way: up to the limit at once, all of them right, pass."""
    limit = app.config["HUDDLE"].login_failures_per_user
    statuses = await asyncio.gather(*(log_in(app, d, "alice", PASSWORD, "192.0.2.30")
                                      for d in doors(limit, "both")))
    assert sorted(statuses) == sorted([200, 303] * (limit // 2) + [200] * (limit % 2))


async def test_parallel_wrong_current_passwords_get_no_more_verifies_than_the_limit(app, client, alice, verifies):
    await client.login("alice")
    verifies.clear()
    wrong = {"current_password": "a wrong guess", "password": "a new password", "confirm_password": "a new password"}
    responses = await asyncio.gather(*(client.post("/account/password", wrong) for _ in range(ATTEMPTS)))
    statuses = [response.status_code for response in responses]
    limit = app.config["HUDDLE"].login_failures_per_user
    assert len(verifies) == limit
    assert statuses.count(422) == limit and statuses.count(429) == ATTEMPTS - limit


async def test_a_right_current_password_gives_its_place_back(app, client, alice):
    await client.login("alice")
    limit = app.config["HUDDLE"].login_failures_per_user
    form = {"password": "a new password", "confirm_password": "a new password"}
    for _ in range(limit - 1):
        assert (await client.post("/account/password", {**form, "current_password": "wrong"})).status_code == 422
    for current, new in ((PASSWORD, "second password"), ("second password", "third password")):
        changed = await client.post("/account/password", {"current_password": current, "password": new,
                                                          "confirm_password": new})
        assert changed.status_code in (200, 303), await changed.get_data(as_text=True)
    assert (await client.post("/account/password", {**form, "current_password": "wrong"})).status_code == 422


@pytest.mark.parametrize("door", ["form", "api"])
async def test_parallel_wrong_passwords_on_the_redis_limiter(redis_app, verifies, door):
    limit = redis_app.config["HUDDLE"].login_failures_per_user
    statuses = await asyncio.gather(*(log_in(redis_app, door, "alice", f"guess {n}", "192.0.2.40")
                                      for n in range(ATTEMPTS)))
    assert len(verifies) == limit
    assert statuses.count(422) == limit and statuses.count(429) == ATTEMPTS - limit
    assert await log_in(redis_app, door, "alice", PASSWORD, "203.0.113.9") in (200, 303)


# --- the limiters themselves -------------------------------------------------------------------------

async def test_two_workers_spending_at_once_on_redis_count_exactly_the_limit(redis_client, prefix):
    """Two limiter instances on two connections stand for two workers."""
    other = await connect()
    try:
        workers = [RedisLimiter(client, prefix + "limit:login:", limit=5, window=60)
                   for client in (redis_client, other)]
        results = await asyncio.gather(*(workers[n % 2].spend("alice|192.0.2.1", "wait {wait}")
                                         for n in range(ATTEMPTS)), return_exceptions=True)
    finally:
        await other.aclose()
    refused = [result for result in results if isinstance(result, BaseException)]
    assert len(refused) == ATTEMPTS - 5 and all(isinstance(error, RateLimited) for error in refused)
    assert all(0 < error.retry_after <= 60 for error in refused)
    assert await redis_client.zcard(prefix + "limit:login:alice|192.0.2.1") == 5


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_take_counts_or_says_how_long_and_give_back_uncounts_one(kind, redis_client, prefix):
    now = [1000.0]
    limiter = (MemoryLimiter(3, 10, clock=lambda: now[0]) if kind == "memory"
               else RedisLimiter(redis_client, prefix, 3, 10, clock=lambda: now[0]))
    marks = []
    for step in range(3):
        now[0] = 1000.0 + step
        wait, mark = await limiter.take("k")
        assert wait is None
        marks.append(mark)
    assert await limiter.take("k") == (8, None)     # the first act leaves the window at 1010
    await limiter.give_back("k", marks[1])
    assert (await limiter.take("k"))[0] is None     # its place was free again
    assert (await limiter.take("k"))[0] == 8
    await limiter.reset("k")
    await limiter.give_back("k", marks[0])          # gone with the reset: nothing happens
    assert (await limiter.take("k"))[0] is None
    now[0] = 1020.0
    assert await limiter.retry_after("k") is None


async def test_without_redis_take_lets_the_act_through_and_says_so(prefix, caplog):
    import redis.asyncio as redis

    broken = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    limiter = RedisLimiter(broken, prefix, limit=1, window=60)
    try:
        assert await limiter.take("k") == (None, None)
        await limiter.give_back("k", None)
    finally:
        await broken.aclose()
    assert "not applied" in caplog.text


# --- registering ------------------------------------------------------------------------------------

def new_account(n: int, email: str | None = None, password: str = PASSWORD) -> dict:
    return {"username": f"member{n}", "email": email or f"m{n}@example.com", "password": password}


async def register(app, door: str, account: dict, ip: str = "198.51.100.7") -> tuple[int, str]:
    """One registration through a door: (status, what it said). The JSON websocket has no status:
    its refusals are 429 with a retry_after, else 422."""
    if door == "form":
        form = {**account, "confirm_password": account["password"]}
        response = await Client(app).post("/register", form, **at(ip))
        return response.status_code, await response.get_data(as_text=True)
    if door == "rest":
        status, body, _ = await Api(app).post("/api/v1/users", account, **at(ip))
        return status, json.dumps(body)
    if door == "messenger":
        body = {"Username": account["username"], "Email": account["email"], "Password": account["password"]}
        status, answer, _ = await Api(app).post("/api/messenger/user", body, **at(ip))
        return status, json.dumps(answer)
    async with json_socket(app) as socket:
        answer = await act(socket, "new", account)
    if "error" not in answer:
        return 201, json.dumps(answer)
    return 429 if "retry_after" in answer else 422, json.dumps(answer)


MADE = {"form": 303, "rest": 201, "messenger": 201, "ws": 201}


@pytest.mark.parametrize("door", ["form", "rest"])
async def test_parallel_registrations_from_one_network_make_exactly_the_limit(app, admin, door):
    limit = 40
    Runtime.of(app).limiters.register_ip.limit = limit
    answers = await asyncio.gather(*(register(app, door, new_account(n)) for n in range(ATTEMPTS)))
    statuses = [status for status, _ in answers]
    assert statuses.count(MADE[door]) == limit and statuses.count(429) == ATTEMPTS - limit
    assert await User.all().count() == 1 + limit


async def test_failed_registrations_count_too(app, admin):
    Runtime.of(app).limiters.register_ip.limit = 3
    for n in range(3):
        assert (await register(app, "rest", new_account(n, password="short")))[0] == 422
    assert (await register(app, "rest", new_account(9)))[0] == 429
    assert (await register(app, "rest", new_account(9), ip="203.0.113.5"))[0] == 201  # another network


@pytest.mark.parametrize("door", ["form", "rest", "ws", "messenger"])
async def test_registration_does_not_tell_a_prober_which_addresses_are_registered(app, alice, door):
    # With the rest of the form wrong, a taken address gets the answer a free one gets.
    status, said = await register(app, door, new_account(1, "alice@example.com", password="x"))
    assert status == 422 and "at least 8" in said and "already registered" not in said
    free_status, free_said = await register(app, door, new_account(1, "free@example.com", password="x"))
    assert free_status == 422 and "already registered" not in free_said
    if door != "form":  # a page shows the typed address back
        assert said.replace("alice@", "free@") == free_said
    # A person whose form is otherwise right is told, so they can log in instead.
    status, said = await register(app, door, new_account(2, "alice@example.com"))
    assert status == 422 and "already registered" in said
    assert not await User.exists(username="member2")


@pytest.mark.parametrize("door", ["form", "rest", "ws", "messenger"])
async def test_probing_registration_is_counted_and_stopped(app, alice, door):
    limit = app.config["HUDDLE"].registrations_per_address_per_hour
    statuses = [(await register(app, door, new_account(n, "alice@example.com", password="x")))[0]
                for n in range(ATTEMPTS)]
    assert statuses[:limit] == [422] * limit and set(statuses[limit:]) == {429}
