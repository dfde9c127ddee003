"""Baseline 1: a bare `websockets` broadcast server, one room (no auth, no database, no rendering).

Every text frame received is sent unchanged to every connection with `websockets.broadcast`
(a synchronous write into each transport: no task or queue per socket). The practical ceiling
of Python + asyncio fan-out, and the yardstick the other servers are divided by.

    python bench/baselines/server_raw.py --port 8101
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal

from websockets.asyncio.server import broadcast, serve

ROOM: set = set()


async def member(socket) -> None:
    ROOM.add(socket)
    try:
        async for frame in socket:
            broadcast(ROOM, frame)
    finally:
        ROOM.discard(socket)


async def main(port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(member, "127.0.0.1", port, backlog=4096, compression=None, ping_interval=None,
                     open_timeout=60, max_size=2**16):
        print(f"READY raw pid={os.getpid()}", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8101)
    asyncio.run(main(parser.parse_args().port))
