"""Who is online: a user is online while at least one of their live sockets is open.

Behind one small interface so that several workers can share it later (Redis, with expiry).
Going offline waits a short grace period: a page navigation closes one socket and opens the
next a moment later, and nobody else should see that as Offline, Online.
"""
from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

log = logging.getLogger("huddle.presence")

OnOffline = Callable[[int], Awaitable[None]]


class Presence(Protocol):
    async def connect(self, user_id: int) -> bool:
        """Count a socket in; True when this made the user come online."""

    async def disconnect(self, user_id: int) -> None:
        """Count a socket out; after the grace period with none left, the user goes offline."""

    async def online(self, user_ids: Iterable[int]) -> set[int]:
        """Which of these users are online now."""

    async def close(self) -> None:
        """Stop pending timers (shutdown)."""


class MemoryPresence:
    """One process's sockets. Correct for one worker; several workers need a shared presence."""

    def __init__(self, grace_seconds: float = 10.0, on_offline: OnOffline | None = None) -> None:
        self.grace_seconds = grace_seconds
        self.on_offline = on_offline
        self._sockets: Counter[int] = Counter()
        self._leaving: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task] = set()
        self._closed = False

    async def connect(self, user_id: int) -> bool:
        self._sockets[user_id] += 1
        pending = self._leaving.pop(user_id, None)
        if pending is not None:
            pending.cancel()  # back within the grace period: they never went offline
            return False
        return self._sockets[user_id] == 1

    async def disconnect(self, user_id: int) -> None:
        # No await before the count changes: a cancelled handler cannot leave the user online.
        self._sockets[user_id] -= 1
        if self._sockets[user_id] > 0:
            return
        del self._sockets[user_id]
        loop = asyncio.get_running_loop()
        self._leaving[user_id] = loop.call_later(self.grace_seconds, self._gone, user_id)

    def _gone(self, user_id: int) -> None:
        if self._leaving.pop(user_id, None) is None or user_id in self._sockets:
            return
        if self.on_offline is not None:
            task = asyncio.get_running_loop().create_task(self._notify(user_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _notify(self, user_id: int) -> None:
        if self._closed:
            return  # shutting down: the database may be gone; other workers' sweeps will tell
        try:
            await self.on_offline(user_id)
        except Exception:  # noqa: BLE001 - a failed notice must not kill the timer loop
            log.exception("presence: could not announce that user %s went offline", user_id)

    async def online(self, user_ids: Iterable[int]) -> set[int]:
        # Users within their grace period still count as online: they have not gone yet.
        return {uid for uid in user_ids if uid in self._sockets or uid in self._leaving}

    async def close(self) -> None:
        self._closed = True
        for handle in self._leaving.values():
            handle.cancel()
        self._leaving.clear()
        for task in list(self._tasks):
            task.cancel()
