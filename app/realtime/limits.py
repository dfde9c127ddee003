"""How many live sockets one session and one user may hold in this process.

Each open socket costs the server memory (~50 KiB) and a place in every fan-out, so one
cookie must not open thousands. Past a limit the OLDEST socket of that session (or user) is
closed, not the new one refused: the newest is the tab the person is looking at, the oldest
is the one they forgot. It closes with 4008, a code htmx does not reconnect on (so two tabs
never take turns evicting each other), and the page says why and offers to reload.
"""
from __future__ import annotations

from collections import defaultdict

from app.realtime.broker import Subscription

REPLACED = 4008


class SocketLimits:
    def __init__(self, per_session: int, per_user: int) -> None:
        self.per_session = per_session
        self.per_user = per_user
        self._by_session: dict[int, list[Subscription]] = defaultdict(list)
        self._by_user: dict[int, list[Subscription]] = defaultdict(list)
        self._owner: dict[Subscription, tuple[int, int]] = {}

    def admit(self, session_id: int, user_id: int, subscription: Subscription) -> list[Subscription]:
        """Count a new socket in; returns the older sockets that must now close."""
        evicted: list[Subscription] = []
        self._owner[subscription] = (session_id, user_id)
        for groups, key, limit in ((self._by_session, session_id, self.per_session),
                                   (self._by_user, user_id, self.per_user)):
            sockets = groups[key]
            sockets.append(subscription)
            while len(sockets) > limit:
                evicted.append(sockets[0])
                self.release(sockets[0])
        return evicted

    def release(self, subscription: Subscription) -> None:
        owner = self._owner.pop(subscription, None)
        if owner is None:
            return
        for groups, key in ((self._by_session, owner[0]), (self._by_user, owner[1])):
            sockets = groups.get(key)
            if sockets and subscription in sockets:
                sockets.remove(subscription)
                if not sockets:
                    del groups[key]

    def count(self, *, session_id: int | None = None, user_id: int | None = None) -> int:
        if session_id is not None:
            return len(self._by_session.get(session_id, ()))
        return len(self._by_user.get(user_id, ()))
