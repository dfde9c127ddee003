"""Who views what, shared by every worker through Redis, with expiry, as app/realtime/redis_presence.py
shares presence: each worker keeps its own pages' entries (MemoryViewing) and writes them to Redis,
per conversation a sorted set of "<socket key>:<user>" scored by when the entry expires unless its
worker renews it. A worker renews its entries every TTL/4; a killed worker renews nothing, so its
pages stop counting as looking once TTL passes (they may miss a notification until then, never
get one twice)."""
from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Iterable

from redis.exceptions import RedisError

from app.realtime.viewing import MemoryViewing

log = logging.getLogger("huddle.viewing")


class RedisViewing(MemoryViewing):
    def __init__(self, redis, *, prefix: str = "huddle:viewing:", ttl: float = 60, clock=time.time) -> None:
        super().__init__()
        self.redis, self.prefix, self.ttl, self.clock = redis, prefix, ttl, clock
        self._renewer: asyncio.Task | None = None

    def _key(self, conversation_id: int) -> str:
        return f"{self.prefix}{conversation_id}"

    async def show(self, key: str, user_id: int, conversation_id: int) -> None:
        before = self._shows.get(key)
        await super().show(key, user_id, conversation_id)
        if self._renewer is None:
            self._renewer = asyncio.get_running_loop().create_task(self._renew_forever())
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                if before is not None and before[1] != conversation_id:
                    pipe.zrem(self._key(before[1]), f"{key}:{before[0]}")
                pipe.zadd(self._key(conversation_id), {f"{key}:{user_id}": self.clock() + self.ttl})
                pipe.expire(self._key(conversation_id), math.ceil(self.ttl * 2))
                await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("viewing not shared (Redis: %s)", error)

    async def hide(self, key: str) -> None:
        shown = self._forget(key)
        if shown is None:
            return
        try:
            await self.redis.zrem(self._key(shown[1]), f"{key}:{shown[0]}")
        except (RedisError, OSError) as error:
            log.warning("viewing not shared (Redis: %s)", error)  # the entry expires by itself

    async def watching(self, conversation_id: int, user_ids: Iterable[int]) -> set[int]:
        ids = set(user_ids)
        here = await super().watching(conversation_id, ids)
        if not ids - here:
            return here
        try:
            entries = await self.redis.zrangebyscore(self._key(conversation_id), self.clock(), "+inf")
        except (RedisError, OSError) as error:
            log.warning("who views conversation %s elsewhere is unknown (Redis: %s)", conversation_id, error)
            return here
        there = {int((entry.decode() if isinstance(entry, bytes) else entry).rsplit(":", 1)[1]) for entry in entries}
        return here | (ids & there)

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 4)
            try:
                await self.renew()
            except (RedisError, OSError) as error:
                log.warning("viewing entries not renewed (Redis: %s)", error)
            except Exception:  # noqa: BLE001 - the renewer must keep running
                log.exception("viewing renewal failed")

    async def renew(self) -> None:
        """Push back the expiry of every entry of this worker; drop expired ones of dead workers."""
        now = self.clock()
        async with self.redis.pipeline(transaction=False) as pipe:
            for key, (user_id, conversation_id) in self._shows.items():
                pipe.zadd(self._key(conversation_id), {f"{key}:{user_id}": now + self.ttl})
                pipe.expire(self._key(conversation_id), math.ceil(self.ttl * 2))
            for conversation_id in self._by_conversation:
                pipe.zremrangebyscore(self._key(conversation_id), "-inf", now)
            await pipe.execute()

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
        shows = dict(self._shows)
        await super().close()
        try:
            if shows:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for key, (user_id, conversation_id) in shows.items():
                        pipe.zrem(self._key(conversation_id), f"{key}:{user_id}")
                    await pipe.execute()
        except (RedisError, OSError):
            pass  # they expire by themselves
