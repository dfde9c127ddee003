"""The real Redis on this machine (127.0.0.1:6379): skipped where it is missing, unless it is
required (tests/helpers/services.py). Every test keeps its keys and channels under a prefix of its
own (`prefix()`): xdist workers and other runs on the machine share the server, never a key."""
from __future__ import annotations

import os
import subprocess
import time
import uuid

import redis as sync_redis
import redis.asyncio as redis

from tests.helpers.ports import free_port
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


def prefix() -> str:
    """Keys and channels of one test's own: `huddle-test-gw1-1a2b3c4d:`."""
    return f"huddle-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{uuid.uuid4().hex[:8]}:"


class PrivateRedis:
    """A redis-server of the test's own, to stop and start again (the machine's stays up)."""

    def __init__(self, folder) -> None:
        self.port, self.folder = free_port(), folder
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = sync_redis.Redis(port=self.port)
        for _ in range(100):  # polling another process until it listens
            try:
                client.ping()
                return
            except sync_redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
