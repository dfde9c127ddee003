"""Counting failures (and other costly acts) per key in a sliding window, and the keys used.

In process (FailureLimiter) for one worker; in Redis (RedisLimiter) when the site runs several
workers or hosts with HUDDLE_BROKER_URL=redis://…, so a limit is the same whichever worker answers.
Both have one async interface: `retry_after(key)`, `fail(key)`, `reset(key)`.
"""
from __future__ import annotations

import ipaddress
import logging
import math
import secrets
import time
from collections import defaultdict, deque

from redis.exceptions import RedisError

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


class FailureLimiter:
    """Counts failures per key in a sliding window; past the limit, says how long to wait.

    In-process: each worker counts its own failures (one worker, or tests).
    """

    MAX_KEYS = 10_000

    def __init__(self, limit: int, window: float, clock=time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures[key]
        cutoff = self.clock() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return deque()
        return failures

    async def retry_after(self, key: str) -> int | None:
        return self.wait(key)

    async def fail(self, key: str) -> None:
        self.count(key)

    async def reset(self, key: str) -> None:
        self._failures.pop(key, None)

    def wait(self, key: str) -> int | None:
        failures = self._recent(key)
        if len(failures) < self.limit:
            return None
        return max(1, math.ceil(failures[0] + self.window - self.clock()))

    def count(self, key: str) -> None:
        self._recent(key)
        self._failures[key].append(self.clock())
        if len(self._failures) > self.MAX_KEYS:
            # Guessing across many names must not grow memory without end: forget stale keys.
            for stale in list(self._failures):
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

    async def fail(self, key: str) -> None:
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zadd(self.prefix + key, {secrets.token_hex(8): self.clock()})
                pipe.expire(self.prefix + key, math.ceil(self.window) + 1)
                await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("rate limit %s not counted (Redis: %s)", self.prefix, error)

    async def reset(self, key: str) -> None:
        try:
            await self.redis.delete(self.prefix + key)
        except (RedisError, OSError) as error:
            log.warning("rate limit %s not reset (Redis: %s)", self.prefix, error)


