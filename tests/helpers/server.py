"""A real Huddle served by Hypercorn on a free port, for tests that need the real server (`served`
for a fixture: made, yielded, stopped)."""
from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from app.config import ROOT
from tests.helpers import ARGON2_MEMORY_KIB
from tests.helpers.ports import free_port

# `python -m app …` for many commands in one process: each request (a JSON line) runs the command
# line's own main() with its arguments and standard input; the answer is a JSON line with the exit
# code and what it printed. Importing the app costs about a second of CPU a process; a server's
# commands (migrate, then every create-user) share one import.
COMMANDS = """
import contextlib, io, json, sys, traceback
from app.__main__ import main
requests, answers = sys.stdin, sys.stdout
for line in requests:
    request, out, err = json.loads(line), io.StringIO(), io.StringIO()
    sys.stdin = io.StringIO(request["input"])
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(request["argv"])
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    except Exception:
        err.write(traceback.format_exc())
        code = 1
    answers.write(json.dumps({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}) + "\\n")
    answers.flush()
"""


class Server:
    def __init__(self, data_dir: Path, **extra_env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ, "HUDDLE_DATA_DIR": str(data_dir), "HUDDLE_DATABASE_URL": "", "HUDDLE_BASE_URL": self.url,
            "HUDDLE_ARGON2_MEMORY_KIB": str(ARGON2_MEMORY_KIB), "HUDDLE_REGISTRATION": "open",
            "HUDDLE_LINK_PREVIEWS": "off", **extra_env,
        }
        self.data_dir = data_dir
        self.log = open(data_dir / "server.log", "a")
        self.commands: subprocess.Popen | None = None
        atexit.register(self.reap)
        self.command("migrate")
        self.start()

    def reap(self) -> None:
        """When the tests end, a server still running (a fixture failed before stopping it) goes too:
        it runs in a session of its own, so nothing else would stop it."""
        process = getattr(self, "process", None)
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    def command(self, *argv: str, input: str = "") -> str:
        """`python -m app *argv` on this server's site (its environment), through one helper process
        for all of them (COMMANDS); what it printed. A failure raises CalledProcessError, as
        subprocess.run(check=True) would."""
        if self.commands is None or self.commands.poll() is not None:
            self.commands = subprocess.Popen([sys.executable, "-c", COMMANDS], cwd=ROOT, env=self.env, text=True,
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        self.commands.stdin.write(json.dumps({"argv": list(argv), "input": input}) + "\n")
        self.commands.stdin.flush()
        line = self.commands.stdout.readline()
        if not line:
            raise RuntimeError(f"the command helper died running {argv}: see {self.data_dir / 'server.log'}")
        answer = json.loads(line)
        if answer["code"] != 0:
            raise subprocess.CalledProcessError(answer["code"], ["python", "-m", "app", *argv], answer["stdout"],
                                                answer["stderr"])
        return answer["stdout"]

    def close_commands(self) -> None:
        if self.commands is not None:
            self.commands.stdin.close()
            self.commands.wait(timeout=15)
            self.commands.stdout.close()
            self.commands = None

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
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        self.close_commands()
        self.process.terminate()
        self.process.wait(timeout=15)
        self.log.close()

    def create_user(self, name: str, password: str, *, admin: bool = False) -> None:
        """`python -m app create-user` (through the command helper)."""
        args = ["create-user", name, f"{name}@example.com", "--password-stdin"]
        self.command(*args, *(["--admin"] if admin else []), input=password + "\n")

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


def served(tmp_path_factory, name: str, **extra_env: str) -> Iterator[Server]:
    """A fixture's server (`yield from served(...)`): its data in a new folder named after name, the
    environment's HUDDLE_... settings added; stopped after."""
    server = Server(tmp_path_factory.mktemp(name), **extra_env)
    try:
        yield server
    finally:
        server.stop()
