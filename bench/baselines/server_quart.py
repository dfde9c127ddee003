"""Baseline 2: bare Quart + Hypercorn, one room (no auth, no database, no rendering per event).

WS /ws: Quart's documented broadcast pattern, a queue and a sending task per socket; every text
frame received goes into every queue. GET /: a room page of 20 messages held in memory, rendered
from a Jinja template (what a page costs without a database or a session).

    python bench/baselines/server_quart.py --port 8102
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path

from quart import Quart, render_template, websocket

app = Quart(__name__, template_folder=str(Path(__file__).parent / "templates"))
MESSAGES = [{"id": n, "user": f"user{n % 7}", "ts": f"12:{n:02d}", "text": f"hello <world> & friends, message {n}"}
            for n in range(20)]
QUEUES: set[asyncio.Queue] = set()


@app.get("/")
async def room():
    return await render_template("room.html", room="general", messages=MESSAGES)


@app.websocket("/ws")
async def ws():
    queue: asyncio.Queue = asyncio.Queue()
    QUEUES.add(queue)

    async def sending():
        while True:
            await websocket.send(await queue.get())

    sender = asyncio.create_task(sending())
    try:
        while True:
            frame = await websocket.receive()
            for each in QUEUES:
                each.put_nowait(frame)
    finally:
        QUEUES.discard(queue)
        sender.cancel()


async def main(port: int) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.backlog = 4096
    config.accesslog = None
    config.loglevel = "WARNING"
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    asyncio.get_running_loop().call_later(0.5, lambda: print(f"READY quart pid={os.getpid()}", flush=True))
    await serve(app, config, shutdown_trigger=stop.wait)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8102)
    asyncio.run(main(parser.parse_args().port))
