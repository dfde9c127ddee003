"""Filling conversations in tests: the chat service counts every post against the posting limit
(HUDDLE_POSTS_PER_10_SECONDS, 20 by default), so a test that writes a long history through it
lifts the limit first. A history of 120 messages is not a flood."""
from __future__ import annotations

from app.runtime import Runtime


def lift_posting_limit(app, limit: int = 1_000_000) -> None:
    Runtime.of(app).limiters.post_user.limit = limit
