"""Presence shared by every worker through Redis, with expiry.

Each worker counts its own sockets as MemoryPresence does (grace period included) and tells
Redis which users it holds: per user a sorted set of worker ids, scored by when that claim
expires. A worker renews its claims every TTL/4; a killed worker renews nothing, so its
users go offline by themselves once TTL_SECONDS pass, and a sweep (every worker runs it; the
first to remove a user from the "online" set announces it) tells the pages.

So: online = some worker's claim has not expired; "came online" and "went offline" are announced
once, across workers; navigating from a page on worker A to one on worker B is not leaving."""
from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Iterable

from redis.exceptions import RedisError

from app.realtime.presence import MemoryPresence

log = logging.getLogger("huddle.presence")

TTL_SECONDS = 60  # by default (HUDDLE_PRESENCE_TTL_SECONDS), a claim not renewed for this long has
# expired (its worker died); a worker renews its claims and sweeps for expired users every TTL/4.


# KEYS: the user's claims, the online set. ARGV: now, until, worker, key ttl, user id.
# Returns how many other live claims there were before ours.
CLAIM = """
local elsewhere = redis.call('ZCOUNT', KEYS[1], ARGV[1], '+inf')
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[5])
return elsewhere
"""
# KEYS: the user's claims, the online set. ARGV: now, user id. Removes the user from the online
# set if no claim is live; returns 1 if this call removed them (its caller announces "offline").
UNLIST = """
if redis.call('ZCOUNT', KEYS[1], ARGV[1], '+inf') == 0 then
  return redis.call('SREM', KEYS[2], ARGV[2])
end
return 0
"""


class RedisPresence(MemoryPresence):
    def __init__(self, redis, grace_seconds: float = 10.0, on_offline=None, *, prefix: str = "huddle:presence:",
                 ttl: float = TTL_SECONDS, clock=time.time) -> None:
        super().__init__(grace_seconds, on_offline)
        self.redis, self.clock, self.prefix = redis, clock, prefix
        self.ttl, self.renew_every = ttl, ttl / 4
        # Each check-and-change in one step (a Lua script runs atomically in Redis), so a sweep
        # and a connect on two workers cannot interleave into a wrong "offline".
        self._claim = redis.register_script(CLAIM)
        self._unlist = redis.register_script(UNLIST)
        self.online_set = prefix + "online"  # users some worker has announced as online
        self.worker = uuid.uuid4().hex
        self._renewer: asyncio.Task | None = None

    def _key(self, user_id: int) -> str:
        return f"{self.prefix}{user_id}"

    def start(self) -> None:
        if self._renewer is None:
            self._renewer = asyncio.get_running_loop().create_task(self._renew_forever())

    async def connect(self, user_id: int) -> bool:
        self.start()
        if not await super().connect(user_id):
            return False  # another socket of theirs here, or back within the grace period (claim kept)
        try:
            now = self.clock()
            elsewhere = await self._claim(keys=[self._key(user_id), self.online_set],
                                          args=[now, now + self.ttl, self.worker, math.ceil(self.ttl * 2), user_id])
        except (RedisError, OSError) as error:
            log.warning("presence not shared (Redis: %s)", error)
            return True
        # Online now, and no live claim of any other worker before ours: announce it. (If the user
        # was still listed as online from a worker that died, the sweep, which checks and removes
        # in one step, now sees our claim and announces nothing.)
        return not elsewhere

    def _gone(self, user_id: int) -> None:
        if self._leaving.pop(user_id, None) is None or user_id in self._sockets:
            return
        task = asyncio.get_running_loop().create_task(self._leave(user_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _leave(self, user_id: int) -> None:
        """Our last socket of this user closed a grace period ago: drop our claim; if no worker
        holds them any more, they went offline (announced once, by whoever removes them)."""
        try:
            await self.redis.zrem(self._key(user_id), self.worker)
            if not await self._unlist(keys=[self._key(user_id), self.online_set], args=[self.clock(), user_id]):
                return
        except (RedisError, OSError) as error:
            log.warning("presence not shared (Redis: %s)", error)
        await self._notify(user_id)

    async def online(self, user_ids: Iterable[int]) -> set[int]:
        ids = list(dict.fromkeys(user_ids))
        here = await super().online(ids)
        rest = [uid for uid in ids if uid not in here]
        if not rest:
            return here
        try:
            now = self.clock()
            async with self.redis.pipeline(transaction=False) as pipe:
                for uid in rest:
                    pipe.zcount(self._key(uid), now, "+inf")
                counts = await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("presence of other workers unknown (Redis: %s)", error)
            return here
        return here | {uid for uid, count in zip(rest, counts, strict=True) if count}

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.renew_every)
            try:
                await self.renew()
                await self.sweep()
            except (RedisError, OSError) as error:
                log.warning("presence claims not renewed (Redis: %s)", error)
            except Exception:  # noqa: BLE001 - the renewer must keep running
                log.exception("presence renewal failed")

    async def renew(self) -> None:
        """Renew our claim on every user we hold (or are holding through a grace period)."""
        users = set(self._sockets) | set(self._leaving)
        if not users:
            return
        until = self.clock() + self.ttl
        async with self.redis.pipeline(transaction=False) as pipe:
            for uid in users:
                pipe.zadd(self._key(uid), {self.worker: until})
                pipe.expire(self._key(uid), math.ceil(self.ttl * 2))
                pipe.sadd(self.online_set, uid)
            await pipe.execute()

    async def sweep(self) -> None:
        """Users listed online whose every claim expired (their worker died): offline now."""
        members = [int(m) for m in await self.redis.smembers(self.online_set)]
        now = self.clock()
        for uid in members:
            if await self._unlist(keys=[self._key(uid), self.online_set], args=[now, uid]):
                await self._notify(uid)

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
        users = set(self._sockets) | set(self._leaving)
        await super().close()
        try:
            if users:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for uid in users:
                        pipe.zrem(self._key(uid), self.worker)
                    await pipe.execute()
        except (RedisError, OSError):
            pass  # the claims expire by themselves
