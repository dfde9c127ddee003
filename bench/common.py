"""What the benchmark scripts share (bench/search.py, messages.py, files.py, push.py, bytes.py): the
app's environment and context in a process, a task in a child process, scratch PostgreSQL
databases, the app under Hypercorn with this client on a core of its own, and the statistics.

Importing it puts the repository on sys.path, so a script run as `python bench/x.py` (or imported
by bench/run.py) reaches `app` and `tests.helpers` after `from common import ...`.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
PY = sys.executable
PASSWORD = "benchmark password"


# --- statistics and progress ---------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank q-quantile (q from 0 to 1): a value that was measured, never one between."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summary(seconds: list[float]) -> dict:
    return {"runs": len(seconds), "p50_ms": round(percentile(seconds, 0.5) * 1000, 2),
            "p95_ms": round(percentile(seconds, 0.95) * 1000, 2)}


def reporter(width: int) -> Callable[[str], None]:
    """Progress on one line of stderr, each report over the last."""
    return lambda text: print(f"\r{text:<{width}}", end="", file=sys.stderr, flush=True)


def show(result: dict, table: Callable[[dict], str]) -> None:
    """A script's answer when run alone: after its progress line, the JSON, then the README's table."""
    print(file=sys.stderr)
    print(json.dumps(result, indent=2))
    print(table(result))


# --- the app in this process, or a task in a child ---------------------------------------------------------

def app_env(url: str, data_dir: Path, **extra: str) -> dict:
    return {**os.environ, "HUDDLE_DATABASE_URL": url, "HUDDLE_DATA_DIR": str(data_dir),
            "HUDDLE_ARGON2_MEMORY_KIB": "1024", "HUDDLE_POSTS_PER_10_SECONDS": "10000000",
            "HUDDLE_LOGIN_FAILURES_PER_IP": "100000", "HUDDLE_BROKER_URL": "memory://", **extra}


def migrate(url: str, data_dir: Path) -> None:
    """The app's migrations on the database at url, as `python -m app migrate` runs them."""
    subprocess.run([PY, "-m", "app", "migrate"], cwd=ROOT, env=app_env(url, data_dir), check=True,
                   capture_output=True)


@contextlib.asynccontextmanager
async def app_site(url: str, data_dir: Path, **extra: str):
    """The app's database and context in this process, as `python -m app` has them."""
    saved = dict(os.environ)
    os.environ.update(app_env(url, data_dir, **extra))
    try:
        from app.__main__ import site
        from app.config import Settings

        async with site(Settings.from_env()):
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


async def create_person(name: str):
    """A member made through the admin service (as the admin page makes one): the User."""
    from app.admin import service as admin
    from app.models import User
    from app.models.actor import SYSTEM

    await admin.create_user(SYSTEM, {"username": name, "email": f"{name}@example.com", "password": PASSWORD,
                                     "confirm_password": PASSWORD, "is_admin": False})
    return await User.get(username=name)


def in_child(script: str, task: str, *args):
    """One of script's async tasks in a fresh process (Tortoise holds one database per process):
    its JSON answer. The script answers through child_main."""
    done = subprocess.run([PY, script, "--child", task, json.dumps(args, default=str)], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise RuntimeError(f"{task} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child_main(tasks: dict, child: list[str]) -> None:
    """In the child: the task named child[0] with the JSON arguments child[1], its answer as JSON."""
    print(json.dumps(asyncio.run(tasks[child[0]](*json.loads(child[1]))), default=str))


# --- PostgreSQL ------------------------------------------------------------------------------------------

def pg_admin_url() -> str:
    return os.environ.get("HUDDLE_TEST_PG", "postgres://postgres@127.0.0.1:5432/postgres")


def pg_url(name: str) -> str:
    return f"{pg_admin_url().rsplit('/', 1)[0]}/{name}"


async def pg_admin(sql: str, *args):
    import asyncpg

    conn = await asyncpg.connect(pg_admin_url())
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def pg_create(name: str, template: str | None = None) -> str:
    """Database `name` made anew (a copy of `template` if named): its URL."""
    pg_drop(name)
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    return pg_url(name)


def pg_drop(name: str) -> None:
    asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def pg_scratch(name: str, template: str | None = None):
    """Database `name` for the block (a copy of `template` if named), dropped after: its URL."""
    url = pg_create(name, template)
    try:
        yield url
    finally:
        pg_drop(name)


# --- through a real server ---------------------------------------------------------------------------------

class Served:
    """Huddle under Hypercorn (bench/run.py's, without its access log) on a free port, on core 0."""

    def __init__(self, url: str, folder: Path) -> None:
        from bench.run import Hypercorn, free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = Hypercorn(folder, self.port, app_env(url, folder, HUDDLE_BASE_URL=self.url), "0")

    def stop(self) -> None:
        self.server.stop()


@contextlib.contextmanager
def client_core():
    """This process on core 1 for the block (the server is on core 0), where there are two."""
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    try:
        if affinity is not None and (os.cpu_count() or 1) > 1:
            os.sched_setaffinity(0, {1})
        yield
    finally:
        if affinity is not None:
            os.sched_setaffinity(0, affinity)


@contextlib.contextmanager
def page_client(url: str, name: str, timeout: float = 60):
    """The app on the database at url served on core 0, this process on core 1, one keep-alive
    connection signed in as `name`: get(path) -> (seconds, status, body) for the block."""
    import http.client
    from types import SimpleNamespace

    from tests.helpers.server import Server

    with tempfile.TemporaryDirectory() as folder:
        served = Served(url, Path(folder))
        try:
            with client_core():
                cookie = Server.login_cookie(SimpleNamespace(url=served.url), name, PASSWORD)
                conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=timeout)

                def get(path: str) -> tuple[float, int, bytes]:
                    started = time.perf_counter()
                    conn.request("GET", path, headers={"Cookie": cookie})
                    answer = conn.getresponse()
                    body = answer.read()
                    return time.perf_counter() - started, answer.status, body

                try:
                    yield get
                finally:
                    conn.close()
        finally:
            served.stop()


# What a team's messages look like (formatting, code, a mention, a list, an emoji): bench/bytes.py
# and bench/lighthouse.py fill their rooms with these; `{link}` is where a message's link goes.
LINES = (
    "Morning all, standup in ten minutes.",
    "I pushed the fix for the **login redirect**; could someone review it? {link}",
    "@bob did the migration run on staging?",
    "Yes, it ran fine: 16 migrations, no errors.",
    "Here is what I ran:\n```python\nasync def migrate():\n    await Command(tortoise_config).upgrade()\n```",
    "Lunch at noon? The new place on _Main Street_ has a terrace.",
    "- [x] release notes\n- [ ] screenshots\n- [ ] tell the support team",
    "The chart looks off after the last deploy, latency doubled around 14:00 UTC.",
    "That was the cache warming up, it's back to normal now.",
    "👍 thanks for checking",
)
