"""A real Huddle served by Hypercorn on a free port, for tests that need the real server."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from app.config import ROOT
from tests.helpers import ARGON2_MEMORY_KIB
from tests.helpers.ports import free_port


class Server:
    def __init__(self, data_dir: Path, **extra_env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ, "HUDDLE_DATA_DIR": str(data_dir), "HUDDLE_DATABASE_URL": "", "HUDDLE_BASE_URL": self.url,
            "HUDDLE_ARGON2_MEMORY_KIB": str(ARGON2_MEMORY_KIB), "HUDDLE_REGISTRATION": "open", **extra_env,
        }
        self.data_dir = data_dir
        self.log = open(data_dir / "server.log", "a")
        migrate = [sys.executable, "-m", "app", "migrate"]
        subprocess.run(migrate, cwd=ROOT, env=self.env, check=True, capture_output=True)
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hypercorn", "--config", "hypercorn.toml", "--bind", f"127.0.0.1:{self.port}",
             "--graceful-timeout", "1", "app:create_app()"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,  # hypercorn runs its worker in a child: signal the group
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(self.url + "/login", timeout=1)
                break
            except OSError as error:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    output = (self.data_dir / "server.log").read_text()
                    raise RuntimeError(f"server did not start: {output}") from error
                time.sleep(0.1)

    def kill(self) -> None:
        """kill -9, the whole process group: no shutdown, no goodbyes."""
        import signal

        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)
        self.log.close()

    def create_user(self, name: str, password: str, *, admin: bool = False) -> None:
        args = [sys.executable, "-m", "app", "create-user", name, f"{name}@example.com", "--password-stdin"]
        subprocess.run(
            args + (["--admin"] if admin else []), cwd=ROOT, env=self.env, input=password + "\n",
            check=True, capture_output=True, text=True,
        )

    def login_cookie(self, name: str, password: str) -> str:
        """Log in over HTTP like a browser would; returns the Cookie header for that session."""
        import http.cookiejar
        import re
        import urllib.parse

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(self.url + "/login").read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"username": name, "password": password, "csrf_token": token}).encode()
        opener.open(urllib.request.Request(self.url + "/login", data=form, headers={"Origin": self.url}))
        return "; ".join(f"{c.name}={c.value}" for c in jar)

    def api(self, method: str, path: str, token: str | None = None, body: dict | None = None) -> dict:
        """A JSON API call; the parsed answer (raises on an HTTP error)."""
        import json

        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, method=method, data=data, headers=headers)
        return json.load(urllib.request.urlopen(request, timeout=10))

    def api_token(self, name: str, password: str) -> str:
        return self.api("POST", "/api/v1/login", body={"username": name, "password": password})["data"]["token"]

    def ws_url(self, path: str) -> str:
        return self.url.replace("http", "ws", 1) + path
