"""One socket's place in each numbered topic it follows: what it has, what it still needs. The
same for a page (/live), the JSON websocket and the messenger socket; only how an event is
written out differs (`render`: its HTML fragment, its JSON frame, …).

The database is the source of truth; the broker only wakes sockets up. Every change to what a
conversation shows carries the next number of its topic. Following a topic from a number:
- what changed after that number is replayed from the source, in order (edits and deletions
  included), rendered exactly as the live push renders it;
- a live event at or below what was sent is skipped (no duplicate), and a live event that skips
  numbers makes the gap be filled from the source first (no gap), so the order is always the
  topic's order;
- live events of topics the socket does not follow pass straight through (a page's sidebar
  counts them), and their numbers are remembered, so following such a topic later does not send
  them twice.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from app.realtime.broker import Event

REPLAY_LIMIT = 500  # further behind than this in one topic: reload (a page) or resync (a program)
PASSED_LIMIT = 64   # numbers remembered per topic not followed (a burst between connecting and following)

Render = Callable[[Event], "str | None"]
Send = Callable[[str], Awaitable[None]]


class Source(Protocol):
    """Where a numbered topic's history lives (chat's conversations: app/chat/live.py)."""

    async def changes(self, topic: str, after: int, limit: int) -> list[Event]:
        """The events a reader that has everything up to `after` needs, in order: one per
        changed record, at its latest version (its seq is that version's number)."""

    async def may_follow(self, user_id: int, topic: str) -> bool: ...


class TooFarBehind(Exception):
    """Replaying would be slower than reloading; `last` is the topic's newest number."""

    def __init__(self, topic: str, last: int) -> None:
        super().__init__(topic, last)
        self.topic, self.last = topic, last


class Cursor:
    def __init__(self, source: Source, user_id: int, render: Render, send: Send,
                 replay_limit: int = REPLAY_LIMIT) -> None:
        self.source, self.user_id = source, user_id
        self.render, self.send = render, send
        self.replay_limit = replay_limit
        self.sent: dict[str, int] = {}          # followed topic → highest number sent
        self.passed: dict[str, set[int]] = {}  # topic not followed → numbers passed through

    def following(self, topic: str) -> bool:
        return topic in self.sent

    async def follow(self, topic: str, after: int) -> int | None:
        """Follow topic from `after`: replay what changed since, in order, then stay live.
        None if this user may not follow it; else the highest number sent. Raises TooFarBehind."""
        if not await self.source.may_follow(self.user_id, topic):
            return None
        passed = self.passed.pop(topic, set())
        if topic in self.sent:
            after = min(after, self.sent[topic])  # asked again: from the older of the two
            passed |= set(range(after + 1, self.sent[topic] + 1))
        self.sent[topic] = after
        await self._fill(topic, skip=passed)
        return self.sent[topic]

    def unfollow(self, topic: str) -> None:
        self.sent.pop(topic, None)
        self.passed.pop(topic, None)

    def take(self, event: Event) -> bool | None:
        """What to do with a live numbered event, decided at once: True, send it (it now counts as
        sent); False, skip it (already sent, or passed through before); None, numbers were skipped:
        the source must fill the gap first (live does; the direct path leaves it to live)."""
        topic, seq = event.topic, event.seq
        sent = self.sent.get(topic)
        if sent is None:
            passed = self.passed.setdefault(topic, set())
            if seq in passed:
                return False
            if len(passed) >= PASSED_LIMIT:
                passed.discard(min(passed))
            passed.add(seq)
            return True
        if seq <= sent:
            return False  # already sent (replayed, or a late duplicate)
        if seq > sent + 1:
            return None
        self.sent[topic] = seq
        return True

    async def live(self, event: Event) -> None:
        """A numbered event from the broker, in the order the broker gave it."""
        taken = self.take(event)
        if taken is None:
            await self._fill(event.topic)  # numbers were skipped: the source has them
            if event.seq <= self.sent[event.topic]:
                return
            self.sent[event.topic] = event.seq
            taken = True
        if taken:
            await self._out(event)

    async def _fill(self, topic: str, skip: set[int] = frozenset()) -> None:
        after = self.sent[topic]
        changed = await self.source.changes(topic, after, self.replay_limit + 1)
        if len(changed) > self.replay_limit:
            self.sent[topic] = changed[-1].seq
            raise TooFarBehind(topic, changed[-1].seq)
        for event in changed:
            if event.seq not in skip:
                await self._out(event)
            self.sent[topic] = event.seq

    async def _out(self, event: Event) -> None:
        text = self.render(event)
        if text:
            await self.send(text)
