"""Publish/subscribe by topic: the only module that knows how live events travel.

An Event is an envelope: what happened (kind), where (topic), its number in that topic when it
has one (seq, for catch-up), and its payloads already rendered once by the publisher (html for
pages, data for programs). The broker moves envelopes and knows nothing else of the app: this
module imports nothing from it.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from app.realtime.direct import Frames

QUEUE_LIMIT = 256

log = logging.getLogger("huddle.live")


@dataclass(frozen=True, slots=True)
class Event:
    kind: str                # "presence", "logout", "reload", "close", later "message.created", ...
    topic: str               # "user:7", "session:12", "presence", later "conversation:3"
    html: str = ""           # the fragment for pages, rendered once for every recipient
    data: dict = field(default_factory=dict)  # the same event for programs (JSON)
    seq: int | None = None   # position in the topic's numbered history, when it has one
    close: int | None = None  # after sending, close the socket with this code
    # The JSON frame programs get (`{"action": kind, "data": data}`), serialized once per event
    # whoever receives it; made from kind and data unless the publisher gives one. Events for one
    # socket only (no topic: a hello, a replay, a close) have none.
    frame: str = ""

    def __post_init__(self) -> None:
        if not self.frame and self.data and self.topic:
            object.__setattr__(self, "frame", json.dumps({"action": self.kind, "data": self.data},
                                                         separators=(",", ":"), ensure_ascii=False))

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "topic": self.topic, "seq": self.seq, "data": self.data,
                           "html": self.html, "close": self.close}, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event:
        return cls(**json.loads(raw))


class Overflow(Exception):
    """The subscriber fell too far behind; its socket should close and reconnect (and catch up)."""


class Subscription:
    """One socket's view of the broker: its topics and a bounded queue of events."""

    def __init__(self, broker: MemoryBroker, topics: Iterable[str], limit: int) -> None:
        self._broker = broker
        self._initial = tuple(topics)
        self.topics: set[str] = set()
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=limit)
        self.overflowed = False
        # Written at once when it can be (app/realtime/direct.py): given the event and the frames
        # built for it so far, True when it was handled so; None: every event is queued.
        self.direct: Callable[[Event, Frames], bool] | None = None

    async def add(self, *topics: str) -> None:
        for topic in topics:
            if topic not in self.topics:
                self.topics.add(topic)
                await self._broker._attach(topic, self)

    async def remove(self, *topics: str) -> None:
        for topic in topics:
            if topic in self.topics:
                self.topics.discard(topic)
                await self._broker._detach(topic, self)

    def deliver(self, event: Event, frames: Frames | None = None) -> None:
        """Write an event at once where the socket can take it now with nothing of its own before
        it; else queue it without waiting. A reader that is too far behind is dropped instead."""
        if self.overflowed:
            return
        if self.direct is not None and self.queue.empty():
            try:
                if self.direct(event, Frames() if frames is None else frames):
                    return
            except Exception:  # noqa: BLE001 - one socket must not stop the others': it takes the queue
                log.exception("a direct write failed; queued instead")
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # Never let one slow reader stall the publisher or the others.
            self.overflowed = True
            self.queue = asyncio.Queue(maxsize=1)
            self.queue.put_nowait(None)  # wake the reader so it sees the overflow

    async def get(self) -> Event:
        event = await self.queue.get()
        if self.overflowed or event is None:
            raise Overflow()
        return event

    async def close(self) -> None:
        await self.remove(*list(self.topics))

    async def __aenter__(self) -> Subscription:
        await self.add(*self._initial)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


class Broker(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def subscribe(self, topics: Iterable[str]) -> Subscription: ...  # `async with` it
    async def publish(self, event: Event) -> None: ...


class MemoryBroker:
    """In-process fan-out: every subscriber in this process, nobody in another.

    A shared broker (Redis) keeps the same local fan-out and adds one upstream subscription per
    topic with local subscribers: that is what `_attach`/`_detach` are for.
    """

    def __init__(self, queue_limit: int = QUEUE_LIMIT) -> None:
        self.queue_limit = queue_limit
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        """`async with broker.subscribe(topics) as subscription:` listens until the block ends."""
        return Subscription(self, topics, self.queue_limit)

    async def publish(self, event: Event) -> None:
        self.deliver(event)

    def deliver(self, event: Event) -> None:
        """Hand one event to every local subscriber of its topic: no work per recipient but a write
        of the same bytes, or a put."""
        frames = Frames()  # each frame built once, whoever takes it
        for subscription in tuple(self._subscribers.get(event.topic, ())):
            subscription.deliver(event, frames)

    def close_local_sockets(self, code: int) -> int:
        """Tell every local socket to close with code (a restart: they reconnect and catch up)."""
        closing = Event("close", "", close=code)
        subscriptions = {s for subs in self._subscribers.values() for s in subs}
        for subscription in subscriptions:
            subscription.deliver(closing)
        return len(subscriptions)

    def local_topics(self) -> set[str]:
        return set(self._subscribers)

    async def _attach(self, topic: str, subscription: Subscription) -> None:
        self._subscribers[topic].add(subscription)

    async def _detach(self, topic: str, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(topic)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[topic]

