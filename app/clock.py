"""The one place that asks the time, so tests can move the clock."""
import time
from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def monotonic() -> float:
    """Seconds from an arbitrary start, never going back: for intervals (throttles)."""
    return time.monotonic()
