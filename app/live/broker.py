"""Publish/subscribe by topic: the only module that knows how live events travel.

Topics are strings (`user:7`, `session:12`, `presence`); payloads are strings (already-rendered
fragments or small control messages). The broker knows nothing of HTML or models."""
from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable

QUEUE_LIMIT = 256


class Overflow(Exception):
    """The subscriber fell too far behind; its socket should close and reconnect (and catch up)."""


class Subscription:
    """One socket's view of the broker: a bounded queue of (topic, payload)."""

    def __init__(self, broker: "MemoryBroker", topics: Iterable[str], limit: int) -> None:
        self.broker = broker
        self.topics = set(topics)
        self.queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue(maxsize=limit)
        self.overflowed = False

    def deliver(self, topic: str, payload: str) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait((topic, payload))
        except asyncio.QueueFull:
            # Never let one slow reader stall the publisher or the others: drop it instead.
            self.overflowed = True
            self.queue = asyncio.Queue(maxsize=1)
            self.queue.put_nowait(("", ""))  # wake the reader so it sees the overflow

    async def get(self) -> tuple[str, str]:
        item = await self.queue.get()
        if self.overflowed:
            raise Overflow()
        return item

    def close(self) -> None:
        self.broker._remove(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class MemoryBroker:
    """In-process fan-out: every subscriber in this process, nobody in another."""

    def __init__(self, queue_limit: int = QUEUE_LIMIT) -> None:
        self.queue_limit = queue_limit
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        subscription = Subscription(self, topics, self.queue_limit)
        for topic in subscription.topics:
            self._subscribers[topic].add(subscription)
        return subscription

    async def publish(self, topic: str, payload: str) -> None:
        self.deliver(topic, payload)

    def deliver(self, topic: str, payload: str) -> None:
        for subscription in list(self._subscribers.get(topic, ())):
            subscription.deliver(topic, payload)

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))

    def _remove(self, subscription: Subscription) -> None:
        for topic in subscription.topics:
            subscribers = self._subscribers.get(topic)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[topic]


def from_url(url: str) -> MemoryBroker:
    if url.startswith("memory:"):
        return MemoryBroker()
    raise ValueError(f"Unsupported HUDDLE_BROKER_URL {url!r}: use memory:// (Redis arrives with scale-out)")
