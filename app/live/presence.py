"""Who is online: a user is online while at least one of their live sockets is open.

Counted per process; with several workers this moves behind the broker (see README)."""
from __future__ import annotations

from collections import Counter


class Presence:
    def __init__(self) -> None:
        self._sockets: Counter[int] = Counter()

    def join(self, user_id: int) -> bool:
        """Count a socket in; True when this made the user come online."""
        self._sockets[user_id] += 1
        return self._sockets[user_id] == 1

    def leave(self, user_id: int) -> bool:
        """Count a socket out; True when the user has no socket left."""
        self._sockets[user_id] -= 1
        if self._sockets[user_id] <= 0:
            del self._sockets[user_id]
            return True
        return False

    def is_online(self, user_id: int) -> bool:
        return self._sockets.get(user_id, 0) > 0

    def online_ids(self) -> set[int]:
        return set(self._sockets)
