"""Fan-out latency of the live channel on the real server (Hypercorn, one worker, SQLite).

N pages hold open sockets (one user, N tabs). Another user opens and closes a page, which
publishes a presence fragment to every page; we time how long each page takes to get it.

    .venv/bin/python bench/fanout.py --pages 100 500 1000 --rounds 20

Client and server share this machine's cores, so the numbers are an upper bound on latency.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from websockets.asyncio.client import connect  # noqa: E402

from tests.helpers.server import Server  # noqa: E402

PASSWORD = "benchmark password"


def user_id(server: Server, cookie: str, name: str) -> int:
    profile = urllib.request.Request(f"{server.url}/users/{name}", headers={"Cookie": cookie})
    return int(re.search(r'data-presence-user="(\d+)"', urllib.request.urlopen(profile).read().decode())[1])


async def run(server: Server, pages: int, rounds: int) -> dict:
    url = server.url.replace("http", "ws") + "/live"
    reader_cookie = server.login_cookie("reader", PASSWORD)
    trigger_cookie = server.login_cookie("trigger", PASSWORD)
    trigger_id = await asyncio.to_thread(user_id, server, reader_cookie, "trigger")
    headers = {"Cookie": reader_cookie, "Origin": server.url}
    sockets = []
    for _ in range(pages):
        socket = await connect(url, additional_headers=headers, max_size=2**20)
        await socket.send(json.dumps({"type": "hello", "presence": [trigger_id]}))
        while "data-snapshot" not in await socket.recv():  # the answer: this page is live
            pass
        sockets.append(socket)

    latencies: list[float] = []
    round_times: list[float] = []
    for _ in range(rounds):
        arrived: list[float] = []

        async def wait(socket, news, arrived=arrived):
            while news not in await socket.recv():
                pass
            arrived.append(time.perf_counter())

        waiting = [asyncio.create_task(wait(s, f'data-online="{trigger_id}"')) for s in sockets]
        start = time.perf_counter()
        trigger = await connect(url, additional_headers={"Cookie": trigger_cookie, "Origin": server.url})
        await asyncio.gather(*waiting)
        latencies.extend(t - start for t in arrived)
        round_times.append(max(arrived) - start)
        await trigger.close()
        # the "offline" event goes out too: let every page take it before the next round
        await asyncio.gather(*[asyncio.create_task(wait(s, f'data-offline="{trigger_id}"')) for s in sockets])
    for socket in sockets:
        await socket.close()
    latencies.sort()
    return {
        "pages": pages,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
        "deliveries_per_s": pages / statistics.median(round_times),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    # One reader session holds every page: lift the per-session and per-user socket caps.
    server = Server(Path(tempfile.mkdtemp(prefix="huddle-bench-")), HUDDLE_PRESENCE_GRACE_SECONDS="0",
                    HUDDLE_LIVE_SOCKETS_PER_SESSION="100000", HUDDLE_LIVE_SOCKETS_PER_USER="100000")
    try:
        server.create_user("reader", PASSWORD)
        server.create_user("trigger", PASSWORD)
        print("| open pages | p50 latency | p99 latency | deliveries/s |")
        print("|---:|---:|---:|---:|")
        for pages in args.pages:
            result = asyncio.run(run(server, pages, args.rounds))
            print(f"| {result['pages']} | {result['p50_ms']:.1f} ms | {result['p99_ms']:.1f} ms "
                  f"| {result['deliveries_per_s']:,.0f} |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
