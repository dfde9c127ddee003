"""Counting failures (and other costly acts) per key in a sliding window, and the keys used.

In-process: each worker counts its own. Several workers behind one site multiply a limit by
their number, which still bounds guessing; a shared store arrives with the Redis scale-out.
"""
from __future__ import annotations

import ipaddress
import math
import time
from collections import defaultdict, deque


def address_block(ip: str) -> str:
    """Who is asking, as far as limits go: an IPv4 address, or an IPv6 /64 (one household or
    host gets a whole /64, and can pick a new address in it for every request)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip or "unknown"
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class FailureLimiter:
    """Counts failures per key in a sliding window; past the limit, says how long to wait.

    In-process: each worker counts its own failures. Several workers behind one site
    multiply the limit by their number, which still bounds guessing.
    """

    MAX_KEYS = 10_000

    def __init__(self, limit: int, window: float, clock=time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures[key]
        cutoff = self.clock() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return deque()
        return failures

    def retry_after(self, key: str) -> int | None:
        failures = self._recent(key)
        if len(failures) < self.limit:
            return None
        return max(1, math.ceil(failures[0] + self.window - self.clock()))

    def fail(self, key: str) -> None:
        self._recent(key)
        self._failures[key].append(self.clock())
        if len(self._failures) > self.MAX_KEYS:
            # Guessing across many names must not grow memory without end: forget stale keys.
            for stale in list(self._failures):
                self._recent(stale)

    def reset(self, key: str) -> None:
        self._failures.pop(key, None)


