"""`make cluster`'s supervisor (app/supervisor.py) on a real machine: two workers on one socket,
one killed with SIGKILL while programs listen and people post. The site keeps answering, the
dead worker's sockets reconnect to the other and catch up with nothing missed or repeated, the
other worker's sockets never notice, and the supervisor starts a new worker."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid

import psutil
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.config import ROOT
from tests.helpers import PASSWORD
from tests.helpers.redis import URL as REDIS_URL
from tests.helpers.server import Server


class Cluster(Server):
    """The same real server, served by the supervisor with two workers."""

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.supervisor", "--workers", "2", "--bind", f"127.0.0.1:{self.port}",
             "--config", "hypercorn.toml", "--graceful-timeout", "1", "app:create_app()"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while len(self.workers()) < 2 or not self.answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"cluster did not start: {(self.data_dir / 'server.log').read_text()}")
            time.sleep(0.1)

    def workers(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children()

    def answers(self) -> bool:
        try:
            return urllib.request.urlopen(self.url + "/healthz", timeout=2).status == 200
        except OSError:
            return False

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self.log.close()


def held_by(cluster: Cluster, client_ports: set[int]) -> list[psutil.Process]:
    """The workers holding at least one of these client connections."""
    return [worker for worker in cluster.workers()
            if {c.raddr.port for c in worker.net_connections(kind="tcp") if c.raddr} & client_ports]


def holder(cluster: Cluster, client_ports: set[int]) -> psutil.Process:
    return held_by(cluster, client_ports)[0]


@pytest.fixture
def redis_ready(redis_client):
    return redis_client


async def test_a_killed_worker_is_replaced_and_its_sockets_catch_up_elsewhere(tmp_path, redis_ready):
    site = tmp_path / "site"
    site.mkdir()
    cluster = Cluster(site, HUDDLE_BROKER_URL=REDIS_URL, HUDDLE_REDIS_PREFIX=f"cluster-{uuid.uuid4().hex[:8]}:")
    sockets = []
    try:
        cluster.create_user("kim", PASSWORD)
        token = cluster.api_token("kim", PASSWORD)
        room = cluster.api("GET", "/api/v1/conversations", token)["data"][0]["id"]
        first = cluster.api("POST", f"/api/v1/conversations/{room}/messages", token, {"text": "before"})["data"]

        async def follow(after: int):
            socket = await connect(cluster.ws_url("/api/v1/ws"))
            await socket.send(json.dumps({"action": "auth", "data": {
                "token": token, "conversations": {str(room): after}}}))
            got = []
            while (frame := json.loads(await socket.recv()))["action"] != "auth":
                got.append(frame["data"]["text"]) if frame["action"] == "message.created" else None
            return socket, got

        # Sockets until both workers hold some (the kernel gives each connection to either).
        while len(sockets) < 40 and len(held_by(cluster, {s.local_address[1] for s in sockets})) < 2:
            sockets.append((await follow(first["version"]))[0])
        ports = {s.local_address[1] for s in sockets}
        assert len(held_by(cluster, ports)) == 2
        victim = holder(cluster, ports)
        victim_ports = {c.raddr.port for c in victim.net_connections(kind="tcp") if c.raddr} & ports
        os.kill(victim.pid, signal.SIGKILL)

        # Its sockets drop; the others stay open and the site keeps answering.
        dropped = [s for s in sockets if s.local_address[1] in victim_ports]
        kept = [s for s in sockets if s.local_address[1] not in victim_ports]
        for socket in dropped:
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(10):
                    while True:
                        await socket.recv()
        texts = [f"while one worker is dead {n}" for n in range(3)]
        for text in texts:
            assert cluster.answers()
            cluster.api("POST", f"/api/v1/conversations/{room}/messages", token, {"text": text})
        for socket in kept:  # never noticed: they hear every message live
            got = []
            async with asyncio.timeout(10):
                while len(got) < len(texts):
                    frame = json.loads(await socket.recv())
                    got.append(frame["data"]["text"]) if frame["action"] == "message.created" else None
            assert got == texts
        # The dead worker's pages reconnect (to whichever worker answers) and catch up exactly.
        for _ in dropped:
            socket, replayed = await follow(first["version"])
            sockets.append(socket)
            assert replayed == texts
        # And the supervisor has started another worker in its place.
        deadline = time.monotonic() + 30
        while victim.pid in [w.pid for w in cluster.workers()] or len(cluster.workers()) < 2:
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            await asyncio.sleep(0.1)  # polling another process
        assert cluster.process.poll() is None
    finally:
        for socket in sockets:
            await socket.close()
        cluster.stop()
