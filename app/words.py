"""Small helpers for English shown to people."""
from __future__ import annotations


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """A count and its noun in agreement: "1 session", "3 sessions", "0 feedback items"."""
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"
