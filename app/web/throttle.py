"""Counting acts per key in a sliding window (failed logins, reset requests, accounts made, posts),
and the keys used.

In process (MemoryLimiter) for one worker; in Redis (RedisLimiter) when the site runs several
workers or hosts with HUDDLE_BROKER_URL=redis://…, so a limit is the same whichever worker answers.
Both have one async interface: `take(key)` counts one act *if the limit allows it*, in one step
(so any number of requests at once, on any number of workers, get at most `limit` through), and
says how long to wait otherwise; `give_back(key, mark)` un-counts an act `take` counted (a login
that succeeded); `reset(key)` forgets a key; `retry_after(key)` only looks. `spend(key, message)`
is `take` that raises RateLimited, and `take_all` takes from several limits or from none.

An attempt is counted *before* the work it limits (an argon2 verify, an account made), never after:
checking, then working, then counting let 60 parallel guesses all through a limit of 5.
`hit(key)` / `fail(key)` count unconditionally (tests and tools).
"""
from __future__ import annotations

import ipaddress
import logging
import math
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from app.domain import RateLimited

log = logging.getLogger("huddle.limits")


def address_block(ip: str) -> str:
    """Who is asking, as far as limits go: an IPv4 address, or an IPv6 /64 (one household or
    host gets a whole /64, and can pick a new address in it for every request)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip or "unknown"
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class MemoryLimiter:
    """Counts acts per key in a sliding window; past the limit, says how long to wait.

    In-process: each worker counts its own (one worker, or tests).
    """

    MAX_KEYS = 10_000

    def __init__(self, limit: int, window: float, clock=time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        hits = self._hits[key]
        cutoff = self.clock() - self.window
        while hits and hits[0] <= cutoff:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return deque()
        return hits

    async def retry_after(self, key: str) -> int | None:
        return self.wait(key)

    async def take(self, key: str) -> tuple[int | None, Any]:
        """Count one act if the limit allows: (None, its mark), else (seconds to wait, None).
        The check and the count are one synchronous step: no other task runs in between."""
        if wait := self.wait(key):
            return wait, None
        return None, self.count(key)

    async def give_back(self, key: str, mark: Any) -> None:
        """Un-count one act take() counted (gone already if it left the window or was reset)."""
        hits = self._hits.get(key)
        if hits is not None and mark in hits:
            hits.remove(mark)
            if not hits:
                del self._hits[key]

    async def hit(self, key: str) -> None:
        self.count(key)

    fail = hit  # a failed attempt (login, current password) is one hit

    async def spend(self, key: str, message: str) -> Hit:
        return await spend(self, key, message)

    async def reset(self, key: str) -> None:
        self._hits.pop(key, None)

    def wait(self, key: str) -> int | None:
        hits = self._recent(key)
        if len(hits) < self.limit:
            return None
        return max(1, math.ceil(hits[0] + self.window - self.clock()))

    def count(self, key: str) -> float:
        self._recent(key)
        now = self.clock()
        self._hits[key].append(now)
        if len(self._hits) > self.MAX_KEYS:
            # Guessing across many names must not grow memory without end: forget stale keys.
            for stale in list(self._hits):
                self._recent(stale)
        return now  # the act's mark: acts at the same moment are interchangeable


class RedisLimiter:
    """The same sliding window, shared by every worker: one sorted set per key (members are
    attempts, scores their times), trimmed on read and expiring with the window.

    take() is one Lua script (trim, count, add if under the limit), which Redis runs alone: two
    workers cannot both see room for the last act. Each act is a random member, so give_back
    removes exactly the one it counted.

    If Redis cannot be reached the limit is not applied (and a warning is logged): logging in
    must not depend on the broker being up; the pages already say when live updates are down."""

    # KEYS[1]: the key. ARGV: now, the window's start (older acts leave), limit, a new member, TTL.
    # Returns nothing when the act was counted, else the oldest act's time (when room comes back).
    TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
    redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
    redis.call('EXPIRE', KEYS[1], ARGV[5])
    return false
end
return redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
"""

    def __init__(self, redis, prefix: str, limit: int, window: float, clock=time.time) -> None:
        self.redis, self.limit, self.window, self.clock = redis, limit, window, clock
        self.prefix = prefix  # e.g. "huddle:limit:login_limiter_user:"
        self._take = redis.register_script(self.TAKE)

    async def retry_after(self, key: str) -> int | None:
        now = self.clock()
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(self.prefix + key, "-inf", now - self.window)
                pipe.zcard(self.prefix + key)
                pipe.zrange(self.prefix + key, 0, 0, withscores=True)
                _, count, oldest = await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("rate limit %s not checked (Redis: %s)", self.prefix, error)
            return None
        if count < self.limit or not oldest:
            return None
        return max(1, math.ceil(oldest[0][1] + self.window - now))

    async def take(self, key: str) -> tuple[int | None, Any]:
        """Count one act if the limit allows: (None, its mark), else (seconds to wait, None)."""
        now, member = self.clock(), secrets.token_hex(8)
        try:
            oldest = await self._take(keys=[self.prefix + key], args=[
                repr(now), repr(now - self.window), self.limit, member, math.ceil(self.window) + 1])
        except (RedisError, OSError) as error:
            log.warning("rate limit %s not applied (Redis: %s)", self.prefix, error)
            return None, None
        if oldest is None:
            return None, member
        return max(1, math.ceil(float(oldest) + self.window - now)), None

    async def give_back(self, key: str, mark: Any) -> None:
        if mark is None:
            return
        try:
            await self.redis.zrem(self.prefix + key, mark)
        except (RedisError, OSError) as error:
            log.warning("rate limit %s not given back (Redis: %s)", self.prefix, error)

    async def hit(self, key: str) -> None:
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zadd(self.prefix + key, {secrets.token_hex(8): self.clock()})
                pipe.expire(self.prefix + key, math.ceil(self.window) + 1)
                await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("rate limit %s not counted (Redis: %s)", self.prefix, error)

    fail = hit  # a failed attempt (login, current password) is one hit

    async def spend(self, key: str, message: str) -> Hit:
        return await spend(self, key, message)

    async def reset(self, key: str) -> None:
        try:
            await self.redis.delete(self.prefix + key)
        except (RedisError, OSError) as error:
            log.warning("rate limit %s not reset (Redis: %s)", self.prefix, error)


@dataclass(frozen=True, slots=True)
class Hit:
    """One act counted by take(), which can be given back (the attempt turned out not to be one
    the limit is about: a login that succeeded, a right current password)."""

    limiter: Any
    key: str
    mark: Any

    async def give_back(self) -> None:
        await self.limiter.give_back(self.key, self.mark)


def limited(message: str, wait: int) -> RateLimited:
    """RateLimited with `message`, which may name the wait as {wait} (seconds) or {minutes}."""
    return RateLimited(message.format(wait=wait, minutes=wait // 60 + 1), wait)


async def take_all(message: str, *limits: tuple[Any, str]) -> list[Hit]:
    """Count one act against each (limiter, key), or against none: if one is used up, the acts
    already taken from the others are given back and RateLimited is raised (a refused attempt
    costs nothing, so a limit lifts by itself while someone keeps trying)."""
    taken: list[Hit] = []
    for limiter, key in limits:
        wait, mark = await limiter.take(key)
        if wait:
            for hit in reversed(taken):
                await hit.give_back()
            raise limited(message, wait)
        taken.append(Hit(limiter, key, mark))
    return taken


async def spend(limiter, key: str, message: str) -> Hit:
    """Count one costly act (a post, an account, a reset request) against `limiter`, or raise
    RateLimited if it is used up. `message` may name the wait as {wait} (seconds) or {minutes}."""
    (hit,) = await take_all(message, (limiter, key))
    return hit
