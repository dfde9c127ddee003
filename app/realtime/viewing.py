"""Who is looking at which conversation right now: a page whose tab is visible (its script says
so on its socket: static/js/viewing.js) and that shows that conversation. Nobody is notified of
what they are looking at (app/notify/service.py asks `watching`).

One entry per page socket, keyed by the socket; a socket that closes (page left, logged out,
network gone) takes its entry with it. In memory for one worker; RedisViewing shares the entries
with every worker through Redis, with expiry (app/realtime/redis_viewing.py).
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable


class MemoryViewing:
    """One process's pages. Correct for one worker."""

    def __init__(self) -> None:
        self._shows: dict[str, tuple[int, int]] = {}  # socket key → (user, conversation)
        self._by_conversation: dict[int, dict[str, int]] = defaultdict(dict)  # conversation → {key: user}

    @staticmethod
    def key() -> str:
        """A key for one socket, unique across workers."""
        return uuid.uuid4().hex

    async def show(self, key: str, user_id: int, conversation_id: int) -> None:
        """This socket's page shows the conversation, and its tab is visible."""
        self._forget(key)
        self._shows[key] = (user_id, conversation_id)
        self._by_conversation[conversation_id][key] = user_id

    async def hide(self, key: str) -> None:
        """This socket's page is hidden, shows no conversation, or is gone."""
        self._forget(key)

    def _forget(self, key: str) -> tuple[int, int] | None:
        shown = self._shows.pop(key, None)
        if shown is not None:
            keys = self._by_conversation.get(shown[1])
            if keys is not None:
                keys.pop(key, None)
                if not keys:
                    del self._by_conversation[shown[1]]
        return shown

    async def watching(self, conversation_id: int, user_ids: Iterable[int]) -> set[int]:
        """Which of these people have a visible page on the conversation now."""
        here = set(self._by_conversation.get(conversation_id, {}).values())
        return {uid for uid in user_ids if uid in here}

    async def close(self) -> None:
        self._shows.clear()
        self._by_conversation.clear()
