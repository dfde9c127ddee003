"""The one place that asks the time, so tests can move the clock."""
from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
