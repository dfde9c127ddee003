"""Counting acts per key in a sliding window (failed logins, reset requests, accounts made, posts),
and the keys used.

In process (MemoryLimiter) for one worker; in Redis (RedisLimiter) when the site runs several
workers or hosts with HUDDLE_BROKER_URL=redis://…, so a limit is the same whichever worker answers.
Both have one async interface: `retry_after(key)`, `hit(key)` (count one act), `reset(key)`, and
`spend(key, message)`: count one act, or raise RateLimited if the limit is used up. `fail(key)` is
`hit` under the name the login throttles read best with (a failed attempt is what they count).
"""
from __future__ import annotations

import ipaddress
import logging
import math
import secrets
import time
from collections import defaultdict, deque

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

    async def hit(self, key: str) -> None:
        self.count(key)

    fail = hit  # a failed attempt (login, current password) is one hit

    async def spend(self, key: str, message: str) -> None:
        await spend(self, key, message)

    async def reset(self, key: str) -> None:
        self._hits.pop(key, None)

    def wait(self, key: str) -> int | None:
        hits = self._recent(key)
        if len(hits) < self.limit:
            return None
        return max(1, math.ceil(hits[0] + self.window - self.clock()))

    def count(self, key: str) -> None:
        self._recent(key)
        self._hits[key].append(self.clock())
        if len(self._hits) > self.MAX_KEYS:
            # Guessing across many names must not grow memory without end: forget stale keys.
            for stale in list(self._hits):
                self._recent(stale)


class RedisLimiter:
    """The same sliding window, shared by every worker: one sorted set per key (members are
    attempts, scores their times), trimmed on read and expiring with the window.

    If Redis cannot be reached the limit is not applied (and a warning is logged): logging in
    must not depend on the broker being up; the pages already say when live updates are down."""

    def __init__(self, redis, prefix: str, limit: int, window: float, clock=time.time) -> None:
        self.redis, self.limit, self.window, self.clock = redis, limit, window, clock
        self.prefix = prefix  # e.g. "huddle:limit:login_limiter_user:"

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

    async def hit(self, key: str) -> None:
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zadd(self.prefix + key, {secrets.token_hex(8): self.clock()})
                pipe.expire(self.prefix + key, math.ceil(self.window) + 1)
                await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("rate limit %s not counted (Redis: %s)", self.prefix, error)

    fail = hit  # a failed attempt (login, current password) is one hit

    async def spend(self, key: str, message: str) -> None:
        await spend(self, key, message)

    async def reset(self, key: str) -> None:
        try:
            await self.redis.delete(self.prefix + key)
        except (RedisError, OSError) as error:
            log.warning("rate limit %s not reset (Redis: %s)", self.prefix, error)


async def spend(limiter, key: str, message: str) -> None:
    """Count one costly act (a post, an account, a reset request) against `limiter`, or raise
    RateLimited if it is used up. `message` may name the wait as {wait} (seconds) or {minutes}."""
    if wait := await limiter.retry_after(key):
        raise RateLimited(message.format(wait=wait, minutes=wait // 60 + 1), wait)
    await limiter.hit(key)
