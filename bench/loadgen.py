"""A light load client for bench/run.py: it must cost far less CPU per delivery than the servers.

Receivers are a bare asyncio.Protocol websocket client (an HTTP upgrade and a frame parser: no
object per message but one int), so one process holds thousands. Senders run in a child process
on an absolute schedule, so receiving cannot delay sending. Each sent text carries
`@@M<20-digit CLOCK_MONOTONIC ns>|`; a receiver finds it in the first 4 KiB of a frame (inside a
rendered fragment too: HTML escaping keeps '@', digits and '|'), which gives post-to-delivery
latency on this host.

Modes (one JSON line on stdout):
  fanout  N receivers on --path (with --header/--hello), senders post at --rate for --duration:
          over the websocket itself (--send ws) or through an HTTP route (--send http --post-path)
  idle    N receivers connect and stay; the server's RSS before and after (memory per connection)
  http    C keep-alive connections GET --path (or the --paths file, in turn) for --duration
Loopback only.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import sys
import time
from pathlib import Path

import psutil

now_ns = time.monotonic_ns
SELF = os.path.abspath(__file__)


class Tree:
    """CPU time and RSS of a server and its children (Hypercorn runs its worker in a child)."""

    def __init__(self, pid: int | None) -> None:
        self.procs = []
        if pid:
            root = psutil.Process(pid)
            self.procs = [root, *root.children(recursive=True)]

    def cpu(self) -> float:
        total = 0.0
        for proc in self.procs:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
        return total

    def rss(self) -> int:
        total = 0
        for proc in self.procs:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
        return total


class Stats:
    latencies: list[int] = []
    delivered = 0


class Receiver(asyncio.Protocol):
    def __init__(self, args, ready: asyncio.Future, record: bool) -> None:
        self.args, self.ready, self.record = args, ready, record
        self.buf = bytearray()
        self.open = False
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join(f"{h}\r\n" for h in self.args.header)
        transport.write((f"GET {self.args.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.args.port}\r\n"
                         f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                         f"Sec-WebSocket-Version: 13\r\n{extra}\r\n").encode())

    def connection_lost(self, exc) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before the handshake"))

    def send(self, payload: bytes) -> None:
        n = len(payload)
        head = bytes((0x81, 0x80 | n)) if n < 126 else bytes((0x81, 0x80 | 126)) + n.to_bytes(2, "big")
        self.transport.write(head + b"\x00\x00\x00\x00" + payload)  # a zero mask: valid, no XOR

    def data_received(self, data: bytes) -> None:
        if not self.open:
            self.buf += data
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buf.startswith(b"HTTP/1.1 101"):
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(bytes(self.buf[:60])))
                self.transport.abort()
                return
            self.open = True
            data, self.buf = bytes(self.buf[end + 4:]), bytearray()
            if self.args.hello:
                self.send(self.args.hello.encode())
            if not self.ready.done():
                self.ready.set_result(self)
        buf = self.buf
        buf += data
        size, pos, t = len(buf), 0, now_ns()
        while size - pos >= 2:
            length, head = buf[pos + 1] & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            end = pos + head + length
            if end > size:
                break
            opcode = buf[pos] & 0x0F
            if opcode in (1, 2) and self.record:
                at = buf.find(b"@@", pos + head, min(end, pos + head + 4096)) + 2
                if at > 1 and buf[at] == 77:  # "M": a measured message
                    Stats.latencies.append(t - int(buf[at + 1:at + 21]))
                    Stats.delivered += 1
            elif opcode == 9:  # ping: answer it
                payload = bytes(buf[pos + head:end])
                self.transport.write(bytes((0x8A, 0x80 | len(payload))) + b"\x00" * 4 + payload)
            pos = end
        if pos:
            del buf[:pos]


async def open_receivers(args, count: int, record: bool) -> list[Receiver]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(100)

    async def one():
        async with gate:
            ready = loop.create_future()
            await loop.create_connection(lambda: Receiver(args, ready, record), "127.0.0.1", args.port)
            return await asyncio.wait_for(ready, 30)

    opened = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
    good = [r for r in opened if isinstance(r, Receiver)]
    if len(good) < count:
        errors = {repr(r)[:80] for r in opened if not isinstance(r, Receiver)}
        print(f"{count - len(good)} receivers failed: {errors}", file=sys.stderr)
    return good


# --- senders (child process) ----------------------------------------------------------------------

class HttpConnection:
    """One keep-alive HTTP/1.1 connection: write a request, read the answer's head and body."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def request(self, raw: bytes) -> int:
        try:
            return await self._request(raw)
        except (asyncio.IncompleteReadError, ConnectionError):
            # The server closed this keep-alive connection (Hypercorn does after 1,000 requests
            # by default): open another, as any client would, and ask again.
            self.writer.close()
            await self.open()
            return await self._request(raw)

    async def _request(self, raw: bytes) -> int:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status


def post_request(args, text: str) -> bytes:
    body = json.dumps({"text": text}).encode()
    extra = "".join(f"{h}\r\n" for h in args.header)
    return (f"POST {args.post_path} HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n").encode() + body


async def senders(args) -> None:
    count = args.senders
    rate = args.rate / count
    interval = 1.0 / rate
    warm, measured = round(args.warmup * rate), round(args.duration * rate)
    pad = "x" * max(0, args.size - 40)
    if args.send == "ws":
        receiver_args = argparse.Namespace(**{**vars(args), "hello": ""})
        conns = await open_receivers(receiver_args, count, record=False)
    else:
        conns = [HttpConnection(args.port) for _ in range(count)]
        for conn in conns:
            await conn.open()
    print("CONNECTED", flush=True)
    sent, lag, refused = 0, 0.0, 0

    async def run(conn, offset: float) -> None:
        nonlocal sent, lag, refused
        for k in range(warm + measured):
            wait = args.t0 + offset + k * interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                lag = max(lag, -wait)
            text = f"@@{'M' if k >= warm else 'W'}{now_ns():020d}|{pad}"
            if args.send == "ws":
                conn.send(text.encode())
            elif await conn.request(post_request(args, text)) >= 300:
                refused += 1
            if k >= warm:
                sent += 1

    await asyncio.gather(*(run(c, i * interval / count) for i, c in enumerate(conns)))
    print("DONE " + json.dumps({"sent": sent, "max_lag_ms": round(lag * 1000, 1), "refused": refused}), flush=True)
    await asyncio.sleep(args.drain + 2)


# --- the modes --------------------------------------------------------------------------------------

def percentile(values: list, q: float):
    if not values:
        return None
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


async def fanout(args) -> dict:
    receivers = await open_receivers(args, args.n, record=True)
    await asyncio.sleep(1.0)  # hellos answered, subscriptions settled
    t0 = time.monotonic() + 2.0
    child = [sys.executable, SELF, "senders", *sys.argv[2:], "--t0", repr(t0)]
    process = await asyncio.create_subprocess_exec(*child, stdout=asyncio.subprocess.PIPE)
    if not (await asyncio.wait_for(process.stdout.readline(), 60)).startswith(b"CONNECTED"):
        return {"error": "senders could not connect"}
    server = Tree(args.server_pid)
    await asyncio.sleep(max(0.0, t0 + args.warmup - time.monotonic()))
    start, cpu0 = time.monotonic(), server.cpu()
    line = await asyncio.wait_for(process.stdout.readline(), args.duration + args.warmup + 60)
    info = json.loads(line.split(b" ", 1)[1]) if line.startswith(b"DONE") else {}
    expected = info.get("sent", 0) * len(receivers)
    deadline = time.monotonic() + args.drain
    while Stats.delivered < expected and time.monotonic() < deadline:  # noqa: ASYNC110 - counted by protocols
        await asyncio.sleep(0.05)
    wall, cpu = time.monotonic() - start, server.cpu() - cpu0
    process.kill()
    latencies = sorted(Stats.latencies)
    return {
        "n": len(receivers), "rate": args.rate, "sent": info.get("sent"), "refused": info.get("refused"),
        "expected": expected, "delivered": Stats.delivered,
        "completion": round(Stats.delivered / expected, 4) if expected else None,
        "deliveries_per_s": round(Stats.delivered / wall) if wall else None,
        "p50_ms": round(percentile(latencies, 0.5) / 1e6, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99) / 1e6, 1) if latencies else None,
        "server_cpu_us_per_delivery": round(cpu / Stats.delivered * 1e6, 1) if Stats.delivered else None,
        "server_cpu_percent": round(100 * cpu / wall, 1) if wall else None,
        "sender_lag_ms": info.get("max_lag_ms"),
    }


async def idle(args) -> dict:
    server = Tree(args.server_pid)
    before = server.rss()
    receivers = await open_receivers(args, args.n, record=False)
    await asyncio.sleep(3.0)
    after = server.rss()
    return {"n": len(receivers), "rss_before_mb": round(before / 2**20, 1), "rss_after_mb": round(after / 2**20, 1),
            "kib_per_connection": round((after - before) / max(1, len(receivers)) / 1024, 1)}


async def http(args) -> dict:
    paths = [args.path]
    if args.paths:
        text = await asyncio.to_thread(Path(args.paths).read_text)
        paths = [line.strip() for line in text.splitlines() if line.strip()]
    extra = "".join(f"{h}\r\n" for h in args.header)
    requests = [f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\n{extra}\r\n".encode() for p in paths]
    random.Random(7).shuffle(requests)
    server = Tree(args.server_pid)
    latencies, errors = [], 0
    stop = time.monotonic() + args.warmup + args.duration
    measure_from = time.monotonic() + args.warmup
    cpu0 = None

    async def worker(index: int) -> None:
        nonlocal errors
        conn = HttpConnection(args.port)
        await conn.open()
        k = index
        while (t := time.monotonic()) < stop:
            status = await conn.request(requests[k % len(requests)])
            k += args.connections
            if t >= measure_from:
                latencies.append(time.monotonic() - t)
                errors += status >= 400

    async def mark() -> None:
        nonlocal cpu0
        await asyncio.sleep(args.warmup)
        cpu0 = server.cpu()

    await asyncio.gather(mark(), *(worker(i) for i in range(args.connections)))
    cpu = server.cpu() - (cpu0 or 0)
    latencies.sort()
    return {"requests_per_s": round(len(latencies) / args.duration, 1), "errors": errors,
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
            "server_cpu_ms_per_request": round(cpu / max(1, len(latencies)) * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["fanout", "senders", "idle", "http"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/ws")
    parser.add_argument("--paths", default="")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--hello", default="")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--duration", type=float, default=8)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--drain", type=float, default=15)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--send", choices=["ws", "http"], default="ws")
    parser.add_argument("--post-path", default="")
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--server-pid", type=int, default=0)
    parser.add_argument("--t0", type=float, default=0)
    args = parser.parse_args()
    if args.mode == "senders":
        asyncio.run(senders(args))
        return
    result = asyncio.run({"fanout": fanout, "idle": idle, "http": http}[args.mode](args))
    print(json.dumps(result), flush=True)
    os._exit(0)  # thousands of sockets: no orderly goodbyes needed


if __name__ == "__main__":
    main()
