"""Free TCP ports for the servers tests start (Hypercorn, SMTP, a relay, a private redis-server).

Each pytest-xdist worker takes its ports from a range of its own, below Linux's ephemeral range
(32768 and up): workers never hand out the same port, and a port checked free here is not given
meanwhile by the kernel to some outgoing connection. A port is handed out once per process."""
from __future__ import annotations

import os
import random
import socket

FIRST, PER_WORKER, WORKERS = 20_000, 1_500, 8  # 20000-31999
_given: set[int] = set()


def worker_index() -> int:
    """0 for gw0 (or without xdist), 1 for gw1, …"""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) % WORKERS if worker[2:].isdigit() else 0


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    start = FIRST + worker_index() * PER_WORKER
    offset = random.randrange(PER_WORKER)  # another run on the machine starts elsewhere in the range
    for step in range(PER_WORKER):
        port = start + (offset + step) % PER_WORKER
        if port not in _given and _is_free(port):
            _given.add(port)
            return port
    raise RuntimeError(f"no free port in {start}-{start + PER_WORKER - 1}")
