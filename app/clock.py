"""The one place that asks the time, so tests can move the clock."""
from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)
