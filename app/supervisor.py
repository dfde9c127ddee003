"""Several Hypercorn workers behind one listening socket, each replaced when it dies.

Hypercorn's own `--workers N` master ends every worker (and itself) when one exits with an
error: a `kill -9` of one worker took the whole site down. Here the socket is opened once and
inherited by N independent single-process workers (`--workers 0 --bind fd://N`): the kernel
hands each new connection to whichever worker accepts it, a worker that dies takes only its own
connections with it (pages and programs reconnect to another worker and catch up from the
database), and it is started again at once (with a growing pause if it keeps dying at start).

    python -m app.supervisor --workers 2 --bind 127.0.0.1:8000 [hypercorn options ...] "app:create_app()"

SIGTERM or SIGINT stops the workers gracefully (each closes its sockets with 1012) and exits.
"""
from __future__ import annotations

import argparse
import logging
import signal
import socket
import subprocess
import sys
import time

log = logging.getLogger("huddle.supervisor")

CHECK_SECONDS = 0.2     # how often the children are looked at
STABLE_SECONDS = 10.0   # a worker that lived this long was healthy: restart it without a pause
PAUSE_MAX = 10.0        # the longest pause between restarts of a worker that keeps dying
STOP_SECONDS = 20.0     # after SIGTERM, how long workers get before they are killed


def listen(bind: str) -> socket.socket:
    host, _, port = bind.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, int(port)), family=family, backlog=1024)
    sock.set_inheritable(True)
    return sock


class Supervisor:
    def __init__(self, workers: int, sock: socket.socket, hypercorn_args: list[str]) -> None:
        self.count, self.sock = workers, sock
        self.command = [sys.executable, "-m", "hypercorn", *hypercorn_args[:-1], "--workers", "0",
                        "--bind", f"fd://{sock.fileno()}", hypercorn_args[-1]]
        self.children: list[subprocess.Popen | None] = [None] * workers
        self.started = [0.0] * workers
        self.pause = [0.0] * workers
        self.stopping = False

    def spawn(self, slot: int) -> None:
        self.children[slot] = subprocess.Popen(self.command, pass_fds=(self.sock.fileno(),))
        self.started[slot] = time.monotonic()
        log.info("worker %d started (pid %d)", slot, self.children[slot].pid)

    def run(self) -> int:
        for signame in ("SIGTERM", "SIGINT"):
            signal.signal(getattr(signal, signame), self.stop)
        for slot in range(self.count):
            self.spawn(slot)
        restart_at = [0.0] * self.count
        while not self.stopping:
            time.sleep(CHECK_SECONDS)
            now = time.monotonic()
            for slot, child in enumerate(self.children):
                if child is None:
                    if now >= restart_at[slot] and not self.stopping:
                        self.spawn(slot)
                    continue
                code = child.poll()
                if code is None or self.stopping:
                    continue
                lived = now - self.started[slot]
                self.pause[slot] = 0.0 if lived >= STABLE_SECONDS else min(max(self.pause[slot] * 2, 0.5), PAUSE_MAX)
                log.warning("worker %d (pid %d) exited with %s after %.1f s; starting another in %.1f s",
                            slot, child.pid, code, lived, self.pause[slot])
                self.children[slot] = None
                restart_at[slot] = now + self.pause[slot]
        return self.shutdown()

    def stop(self, *_) -> None:
        self.stopping = True

    def shutdown(self) -> int:
        alive = [child for child in self.children if child is not None and child.poll() is None]
        for child in alive:
            child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for child in alive:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.sock.close()
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.supervisor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bind", default="127.0.0.1:8000")
    args, hypercorn_args = parser.parse_known_args(argv)
    if not hypercorn_args or hypercorn_args[-1].startswith("-"):
        parser.error('end with the application, e.g. "app:create_app()"')
    if args.workers < 1:
        parser.error("--workers must be 1 or more")
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s")
    return Supervisor(args.workers, listen(args.bind), hypercorn_args).run()


if __name__ == "__main__":
    sys.exit(main())
