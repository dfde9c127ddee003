"""Live events through Redis, for several workers or hosts: the same interface as MemoryBroker.

ONE pub/sub connection per process, never one per socket: a topic is SUBSCRIBEd upstream when
its first local socket wants it and UNSUBSCRIBEd when its last one leaves; every event read
from Redis is fanned out locally exactly as the in-process broker does. Redis pub/sub keeps
nothing for a subscriber that is away, so when the connection drops, the broker keeps trying to
reconnect (backing off up to BACKOFF_MAX seconds, for as long as Redis is away, reporting "not
ready" meanwhile), then closes its local sockets with 1012: pages and programs reconnect and
catch up from the database (events are numbered there), so nothing posted meanwhile is lost,
and a logout published while Redis was away is made good by the socket's fresh authentication.
"""
from __future__ import annotations

import asyncio
import logging

import redis.asyncio as redis
from redis.exceptions import RedisError

from app.realtime.broker import Event, MemoryBroker, Subscription

log = logging.getLogger("huddle.broker")
RESTART = 1012  # "service restart": htmx reconnects, the page catches up
BACKOFF_MAX = 5.0
CONFIRM_SECONDS = 5.0  # how long a first subscriber waits for Redis to confirm its SUBSCRIBE
# Anything the client raises while Redis is away: its own errors, the socket's, and the
# RuntimeError("pubsub connection not set") of a pub/sub whose reconnection failed half-way.
LOST = (RedisError, OSError, RuntimeError, asyncio.TimeoutError)


class RedisBroker(MemoryBroker):
    def __init__(self, url: str, *, prefix: str = "huddle:", queue_limit: int | None = None) -> None:
        super().__init__(**({"queue_limit": queue_limit} if queue_limit else {}))
        self.url, self.prefix = url, prefix
        self._redis: redis.Redis | None = None
        self._pubsub = None
        self._reader: asyncio.Task | None = None
        self._lock = asyncio.Lock()  # subscribe/unsubscribe and reconnects take turns
        self.connected = False  # the pub/sub connection is up and listening (readiness)
        self.reconnects = 0     # times it came back after a loss (tests and logs)
        self.failed_tries = 0   # reconnection attempts that found Redis still away
        self._confirming: dict[str, list[asyncio.Future]] = {}  # channel -> who waits for its SUBSCRIBE

    async def start(self) -> None:
        self._redis = redis.Redis.from_url(self.url)
        try:
            await self._connect()
            first = None
        except LOST as error:  # Redis away at start: serve anyway, not ready until it is back
            first = error
        self._reader = asyncio.create_task(self._run(first))

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._redis is not None:
            await self._redis.aclose()

    async def ping(self) -> bool:
        """Ready: listening to Redis (not in the middle of reconnecting) and Redis answers."""
        if not self.connected:
            return False
        try:
            return bool(await self._redis.ping())
        except LOST:
            return False

    async def publish(self, event: Event) -> None:
        """Never fails the write that caused it: the change is committed and numbered in the
        database, and every page catches up from there when the broker is back (its reader
        reconnects and closes the local sockets with 1012; other workers' readers do the same)."""
        if self._redis is None:  # not serving (the command line): a connection to publish with, no reader
            self._redis = redis.Redis.from_url(self.url)
        try:
            await self._redis.publish(self.prefix + event.topic, event.to_json())
        except LOST as error:
            log.warning("event %s on %s not published (Redis: %s); pages catch up on reconnect",
                        event.kind, event.topic, error)

    async def _connect(self) -> None:
        """A fresh pub/sub connection, listening to every topic local sockets want."""
        async with self._lock:
            if self._pubsub is not None:
                try:
                    await self._pubsub.aclose()
                except LOST:
                    pass
            self._pubsub = None
            pubsub = self._redis.pubsub()  # the reader sees SUBSCRIBE confirmations (_confirmed)
            try:
                await pubsub.subscribe(self.prefix + "_", *(self.prefix + t for t in self._subscribers))
            except BaseException:
                await pubsub.aclose()
                raise
            self._pubsub = pubsub
            self.connected = True

    async def _attach(self, topic: str, subscription: Subscription) -> None:
        """The first local subscriber of a topic returns only once Redis has confirmed the
        SUBSCRIBE: redis-py sends it without waiting, and an event published on another
        connection just after could reach Redis first and be lost to this subscriber (a page
        subscribes, then reads its catch-up from the database, then relies on the stream)."""
        first = topic not in self._subscribers
        await super()._attach(topic, subscription)
        if first:
            channel = self.prefix + topic
            confirmed = asyncio.get_running_loop().create_future()
            async with self._lock:
                if self._pubsub is None:
                    return  # reconnecting: every local topic is subscribed again then
                self._confirming.setdefault(channel, []).append(confirmed)
                try:
                    await self._pubsub.subscribe(channel)
                except LOST:
                    self._forget(channel, confirmed)
                    return  # the reader reconnects and subscribes every local topic again
            try:
                await asyncio.wait_for(asyncio.shield(confirmed), CONFIRM_SECONDS)
            except TimeoutError:  # Redis went away meanwhile: the reconnect closes this socket with 1012
                self._forget(channel, confirmed)

    def _forget(self, channel: str, waiter: asyncio.Future) -> None:
        waiting = self._confirming.get(channel, [])
        if waiter in waiting:
            waiting.remove(waiter)
        if not waiting:
            self._confirming.pop(channel, None)

    def _confirmed(self, channel: bytes | str) -> None:
        name = channel.decode() if isinstance(channel, bytes) else channel
        for waiter in self._confirming.pop(name, []):
            if not waiter.done():
                waiter.set_result(None)

    async def _detach(self, topic: str, subscription: Subscription) -> None:
        await super()._detach(topic, subscription)
        if topic not in self._subscribers:
            async with self._lock:
                if self._pubsub is None:
                    return
                try:
                    await self._pubsub.unsubscribe(self.prefix + topic)
                except LOST:
                    pass

    async def _run(self, lost: BaseException | None) -> None:
        if lost is not None:
            await self._reconnect(lost)
        await self._read()

    async def _read(self) -> None:
        """Read for as long as the app runs: a loss of Redis, however long, only pauses it."""
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except LOST as error:
                await self._reconnect(error)
                continue
            if message is None:
                continue
            if message.get("type") == "subscribe":
                self._confirmed(message.get("channel", b""))
                continue
            if message.get("type") != "message":
                continue
            try:
                event = Event.from_json(message["data"])
            except (ValueError, TypeError, KeyError):
                log.warning("ignoring a malformed event on %r", message.get("channel"))
                continue
            self.deliver(event)

    async def _reconnect(self, error: BaseException) -> None:
        """Not ready until Redis is back; then every local socket reconnects and catches up."""
        self.connected = False
        delay = 0.1
        log.warning("lost Redis (%s); reconnecting", error or type(error).__name__)
        while True:
            await asyncio.sleep(delay)
            try:
                await self._connect()
            except LOST as again:
                self.failed_tries += 1
                delay = min(delay * 2, BACKOFF_MAX)
                log.debug("Redis still away (%s); next try in %.1f s", again, delay)
                continue
            break
        self.reconnects += 1
        log.warning("Redis is back: local pages and programs reconnect and catch up from the database")
        self.close_local_sockets(RESTART)
