"""Live events through Redis, for several workers or hosts: the same interface as MemoryBroker.

ONE pub/sub connection per process, never one per socket: a topic is SUBSCRIBEd upstream when
its first local socket wants it and UNSUBSCRIBEd when its last one leaves; every event read
from Redis is fanned out locally exactly as the in-process broker does. Redis pub/sub keeps
nothing for a subscriber that is away, so when the connection drops, the broker reconnects by
itself and then closes its local sockets with 1012: the pages reconnect and catch up from the
database (events are numbered there), so nothing posted meanwhile is lost.
"""
from __future__ import annotations

import asyncio
import logging

import redis.asyncio as redis
from redis.exceptions import RedisError

from app.realtime.broker import Event, MemoryBroker, Subscription

log = logging.getLogger("huddle.broker")
RESTART = 1012  # "service restart": htmx reconnects, the page catches up


class RedisBroker(MemoryBroker):
    def __init__(self, url: str, *, prefix: str = "huddle:", queue_limit: int | None = None) -> None:
        super().__init__(**({"queue_limit": queue_limit} if queue_limit else {}))
        self.url, self.prefix = url, prefix
        self._redis: redis.Redis | None = None
        self._pubsub = None
        self._reader: asyncio.Task | None = None
        self._lock = asyncio.Lock()  # subscribe/unsubscribe and reconnects take turns

    async def start(self) -> None:
        self._redis = redis.Redis.from_url(self.url)
        await self._connect()
        self._reader = asyncio.create_task(self._read())

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._redis is not None:
            await self._redis.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def publish(self, event: Event) -> None:
        """Never fails the write that caused it: the change is committed and numbered in the
        database, and every page catches up from there when the broker is back (its reader
        reconnects and closes the local sockets with 1012; other workers' readers do the same)."""
        if self._redis is None:  # not serving (the command line): a connection to publish with, no reader
            self._redis = redis.Redis.from_url(self.url)
        try:
            await self._redis.publish(self.prefix + event.topic, event.to_json())
        except (RedisError, OSError) as error:
            log.warning("event %s on %s not published (Redis: %s); pages catch up on reconnect",
                        event.kind, event.topic, error)

    async def _connect(self) -> None:
        """A fresh pub/sub connection, listening to every topic local sockets want."""
        async with self._lock:
            if self._pubsub is not None:
                await self._pubsub.aclose()
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            await self._pubsub.subscribe(self.prefix + "_", *(self.prefix + t for t in self._subscribers))

    async def _attach(self, topic: str, subscription: Subscription) -> None:
        first = topic not in self._subscribers
        await super()._attach(topic, subscription)
        if first:
            async with self._lock:
                try:
                    await self._pubsub.subscribe(self.prefix + topic)
                except (RedisError, OSError):
                    pass  # the reader reconnects and subscribes every local topic again

    async def _detach(self, topic: str, subscription: Subscription) -> None:
        await super()._detach(topic, subscription)
        if topic not in self._subscribers:
            async with self._lock:
                try:
                    await self._pubsub.unsubscribe(self.prefix + topic)
                except (RedisError, OSError):
                    pass

    async def _read(self) -> None:
        delay = 0.1
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
                delay = 0.1
            except (RedisError, OSError) as error:
                log.warning("lost Redis (%s); reconnecting in %.1f s", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                try:
                    await self._connect()
                except (RedisError, OSError):
                    continue
                log.warning("Redis is back: local pages reconnect and catch up from the database")
                self.close_local_sockets(RESTART)
                continue
            if message is None or message.get("type") != "message":
                continue
            try:
                event = Event.from_json(message["data"])
            except (ValueError, TypeError, KeyError):
                log.warning("ignoring a malformed event on %r", message.get("channel"))
                continue
            self.deliver(event)
