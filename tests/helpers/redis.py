"""The real Redis on this machine (127.0.0.1:6379): skipped where it is missing, except in CI (fails)."""
from __future__ import annotations

import os

import redis.asyncio as redis

from tests.helpers.services import missing

URL = os.environ.get("HUDDLE_TEST_REDIS", "redis://127.0.0.1:6379/0")


async def connect() -> redis.Redis:
    client = redis.Redis.from_url(URL)
    try:
        await client.ping()
    except (OSError, redis.RedisError) as error:
        await client.aclose()
        missing(f"Redis is not reachable at {URL}: {error}")
    return client
