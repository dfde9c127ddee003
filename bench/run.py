"""Huddle's live fan-out and pages, side by side with two bare baselines, in one run.

    make bench            (or: .venv/bin/python bench/run.py [--quick])

Servers (each on CPU core 0; the load client, bench/loadgen.py, on core 1):
  raw     bench/baselines/server_raw.py: `websockets` broadcast, no auth, no database, no rendering
  quart   bench/baselines/server_quart.py: bare Quart + Hypercorn, a queue and task per socket
  huddle  the real app (Hypercorn, hypercorn.toml without its access log, SQLite, one worker):
          N pages of a logged-in member on /live, each saying hello for #general; messages posted
          through the real route (POST /api/v1/conversations/{id}/messages), rendered once, pushed
  huddle+redis  the same with HUDDLE_BROKER_URL=redis://127.0.0.1:6379/0

Measured: post-to-delivery latency p50/p99 at fixed rates, deliveries/s at saturation, server
CPU per delivery, server memory per idle connection, the room page against the bare Quart page,
history paging at 1,000,000 messages in PostgreSQL, search at 1,000,000 messages on SQLite and
PostgreSQL (bench/search.py), and Web Push from a post mentioning @everyone in a room of 50 to
every push accepted by a local receiver (bench/push.py), a 12-megapixel photo in a message, from
its upload to 100 open pages and to its thumbnail on them (bench/files.py), and richer messages
(replies, threads, reactions, link previews) against a plain post, on SQLite and PostgreSQL
(bench/messages.py), and Lighthouse's scores and layout shift on each kind of page
(bench/lighthouse.py). Writes bench/results/latest.json, the table between the bench markers in
README.md, and docs/bench.png.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
PASSWORD = "benchmark password"
LOADGEN = str(ROOT / "bench" / "loadgen.py")
SERVER_CORE, CLIENT_CORE = "0", "1"


def pinned(core: str) -> list[str]:
    return ["taskset", "-c", core] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Progress:
    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0

    def step(self, label: str) -> None:
        self.done += 1
        filled = round(30 * self.done / self.total)
        print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} {label:<48}", end="",
              file=sys.stderr, flush=True)


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def baseline(name: str):
    port = free_port()
    script = ROOT / "bench" / "baselines" / f"server_{name}.py"
    process = subprocess.Popen([*pinned(SERVER_CORE), PY, str(script), "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    process.stdout.readline()  # READY
    time.sleep(0.3)
    try:
        yield {"port": port, "pid": process.pid, "path": "/ws", "headers": [], "hello": "", "send": "ws"}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


class Hypercorn:
    """The app under Hypercorn as hypercorn.toml configures it (without its access log: the
    baselines log nothing per request either) on a port, pinned to a core; ready when /healthz is."""

    def __init__(self, folder: Path, port: int, env: dict, core: str, **options) -> None:
        config = tomllib.loads((ROOT / "hypercorn.toml").read_text())
        config.pop("accesslog", None)
        config.update(bind=[f"127.0.0.1:{port}"], **options)
        path = folder / "hypercorn.toml"
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{key} = {json.dumps(value)}\n" for key, value in config.items()))
        self.log = open(folder / "server.log", "w")
        self.process = subprocess.Popen(
            [*pinned(core), PY, "-m", "hypercorn", "--config", str(path), "app:create_app()"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_http(f"http://127.0.0.1:{port}/healthz")

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


class Huddle:
    """The real app on a free port, with a member reading (cookie) and one posting (token)."""

    def __init__(self, folder: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "HUDDLE_DATA_DIR": str(folder), "HUDDLE_BASE_URL": self.url,
                    "HUDDLE_ARGON2_MEMORY_KIB": "1024", "HUDDLE_LIVE_SOCKETS_PER_SESSION": "100000",
                    "HUDDLE_LIVE_SOCKETS_PER_USER": "100000", "HUDDLE_POSTS_PER_10_SECONDS": "10000000",
                    "HUDDLE_LOGIN_FAILURES_PER_IP": "100000", **env}
        subprocess.run([PY, "-m", "app", "migrate"], cwd=ROOT, env=self.env, check=True, capture_output=True)
        for name in ("reader", "poster"):
            subprocess.run([PY, "-m", "app", "create-user", name, f"{name}@example.com", "--password-stdin"],
                           cwd=ROOT, env=self.env, input=PASSWORD + "\n", check=True, capture_output=True, text=True)
        self.server = Hypercorn(folder, self.port, self.env, SERVER_CORE, backlog=4096)
        from tests.helpers.server import Server

        self.cookie = Server.login_cookie(self, "reader", PASSWORD)
        self.token = Server.api_token(self, "poster", PASSWORD)
        conversations = Server.api(self, "GET", "/api/v1/conversations", self.token)["data"]
        self.room = conversations[0]["id"]

    def api(self, method: str, path: str, token: str | None = None, body: dict | None = None) -> dict:
        from tests.helpers.server import Server

        return Server.api(self, method, path, token, body)

    def target(self) -> dict:
        last = self.api("GET", f"/api/v1/conversations/{self.room}", self.token)["data"]["last_seq"]
        hello = json.dumps({"type": "hello", "presence": [], "conversation": self.room, "after": last})
        return {"port": self.port, "pid": self.server.pid, "path": "/live", "hello": hello, "send": "http",
                "post_path": f"/api/v1/conversations/{self.room}/messages",
                "headers": [f"Cookie: {self.cookie}", f"Origin: {self.url}", f"Authorization: Bearer {self.token}"]}

    def stop(self) -> None:
        self.server.stop()


def loadgen(mode: str, target: dict, **options) -> dict:
    args = [*pinned(CLIENT_CORE), PY, LOADGEN, mode, "--port", str(target["port"]), "--path",
            options.pop("path", target["path"]), "--server-pid", str(target["pid"])]
    for header in target.get("headers", []):
        args += ["--header", header]
    if target.get("hello"):
        args += ["--hello", target["hello"]]
    if mode == "fanout":
        args += ["--send", target["send"]]
        if target["send"] == "http":
            args += ["--post-path", target["post_path"]]
    for key, value in options.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": (done.stderr or done.stdout)[-300:]}


FANOUT = [  # (name, N pages, messages/s offered)
    ("latency", 100, 20), ("latency", 1000, 20), ("latency", 5000, 2), ("saturation", 1000, 100),
]
QUICK = [("latency", 100, 20), ("latency", 1000, 20), ("saturation", 1000, 100)]


def history_paging(folder: Path, progress: Progress, messages: int) -> dict:
    """GET …/messages?before=<random>&limit=50 against a room of `messages` in PostgreSQL."""
    import asyncio

    import asyncpg

    from tests.helpers.postgres import admin_sql, database_url

    name = f"huddle_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin_sql(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as error:
        return {"error": f"PostgreSQL unavailable: {error}"}
    url = database_url(name)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        server = Huddle(folder, HUDDLE_DATABASE_URL=url)
        try:
            async def fill() -> None:
                conn = await asyncpg.connect(url)
                try:
                    author = await conn.fetchval("SELECT id FROM users WHERE username = 'poster'")
                    await conn.execute(
                        """INSERT INTO messages (conversation_id, author_id, author_name, body, seq, version_seq,
                                                 created_at, client_id)
                           SELECT $1, $2, 'poster', 'history message number ' || n, n, n,
                                  now() - (($3 - n) || ' seconds')::interval, NULL
                           FROM generate_series(1, $3) AS n""", server.room, author, messages)
                    await conn.execute("UPDATE conversations SET last_seq = $2 WHERE id = $1", server.room, messages)
                    await conn.execute("ANALYZE messages")
                finally:
                    await conn.close()

            asyncio.run(fill())
            paths = folder / "paths.txt"
            rng = random.Random(1)
            paths.write_text("".join(f"/api/v1/conversations/{server.room}/messages?limit=50&before="
                                     f"{rng.randint(51, messages)}\n" for _ in range(5000)))
            target = {**server.target(), "headers": [f"Authorization: Bearer {server.token}"]}
            result = loadgen("http", target, paths=paths, connections=1, duration=8, warmup=2)  # one reader paging
            progress.step("history paging at 1,000,000 messages")
            return {**result, "messages": messages}
        finally:
            server.stop()
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(quick: bool, only: set[str], servers: list[str]) -> dict:
    scenarios = QUICK if quick else FANOUT
    if "fanout" not in only:
        scenarios = []
    progress = Progress(len(servers) * (len(scenarios) + ("idle" in only)) + 2 * ("pages" in only)
                        + ("history" in only) + ("search" in only) + ("push" in only) + ("files" in only)
                        + ("messages" in only) + ("lighthouse" in only))
    results: dict = {"fanout": [], "idle": [], "pages": {}, "machine": machine(), "when": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        for server in servers:
            for kind, n, rate in scenarios:  # (empty unless fanout is asked for)
                with serving(server, scratch) as target:
                    row = loadgen("fanout", target, n=n, rate=rate, duration=8, warmup=2, drain=15,
                                  senders=4 if rate >= 20 else 2)
                results["fanout"].append({"server": server, "kind": kind, **row, "n": n, "rate": rate})
                progress.step(f"{server}: {n} pages, {rate} messages/s")
            if "idle" in only:
                with serving(server, scratch) as target:
                    row = loadgen("idle", target, n=1000 if quick else 5000)
                results["idle"].append({"server": server, **row})
                progress.step(f"{server}: idle memory")
        if "pages" in only:
            pages(results, scratch, progress)
        if "history" in only:
            try:
                results["history"] = history_paging(scratch / "history", progress, 100_000 if quick else 1_000_000)
            except Exception as error:  # noqa: BLE001 - report what was measured, and why this part was not
                results["history"] = {"error": repr(error)}
        if "search" in only:
            import search

            measured(results, progress, "search", "search at 1,000,000 messages",
                     lambda report: search.run(100_000 if quick else 1_000_000, report=report))
        if "push" in only:
            import push

            measured(results, progress, "push", "Web Push, @everyone in a room of 50",
                     lambda report: push.run(10 if quick else 30, report=report))
        if "files" in only:
            import files
            import images

            measured(results, progress, "files", "a 12 MP photo to 100 pages", lambda report: {
                **files.run(5 if quick else 20, report=report), "steps": images.run(3 if quick else 10)})
        if "messages" in only:
            import messages

            measured(results, progress, "messages", "richer messages on SQLite and PostgreSQL",
                     lambda report: messages.run(quick, report=report))
        if "lighthouse" in only:
            import lighthouse

            measured(results, progress, "lighthouse", "Lighthouse on each kind of page",
                     lambda report: lighthouse.run(1 if quick else 3, report=report))
    print(file=sys.stderr)
    return results


def measured(results: dict, progress: Progress, name: str, label: str, run) -> None:
    """One part that stands apart (its own script): its figures, or why there are none."""
    def report(text: str) -> None:
        print(f"\r{text:<100}", end="", file=sys.stderr, flush=True)

    try:
        results[name] = run(report)
    except Exception as error:  # noqa: BLE001 - report what was measured, and why this part was not
        results[name] = {"error": repr(error)}
    progress.step(label)


def pages(results: dict, scratch: Path, progress: Progress) -> None:
    """The room page a member opens against the bare Quart page rendering the same kind of list."""
    with serving("quart", scratch) as target:
        results["pages"]["bare Quart page (20 messages from memory), 50 connections"] = loadgen(
            "http", target, path="/", duration=8, warmup=2)
    progress.step("bare Quart page")
    with serving("huddle", scratch, messages=50) as target:
        results["pages"]["Huddle room page (50 messages, sidebar, session), 50 connections"] = loadgen(
            "http", target, path=target["page"], duration=8, warmup=2)
    progress.step("Huddle room page")


@contextmanager
def serving(server: str, scratch: Path, messages: int = 0):
    if server in ("raw", "quart"):
        with baseline(server) as target:
            yield target
        return
    folder = scratch / f"{server}-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    env = {}
    if server == "huddle+redis":
        env = {"HUDDLE_BROKER_URL": "redis://127.0.0.1:6379/0", "HUDDLE_REDIS_PREFIX": f"bench-{uuid.uuid4().hex[:6]}:"}
    huddle = Huddle(folder, **env)
    try:
        for n in range(messages):
            huddle.api("POST", f"/api/v1/conversations/{huddle.room}/messages", huddle.token,
                       {"text": f"message number {n}, with a link to https://example.com/{n}"})
        target = huddle.target()
        target["page"] = f"/chat/{huddle.room}"  # read with the reader's cookie (the token is ignored there)
        yield target
    finally:
        huddle.stop()


def machine() -> dict:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}"}


# --- the report ---------------------------------------------------------------------------------------

def table(results: dict) -> str:
    m = results["machine"]
    lines = [f"Measured {results['when']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, {m['system']}; "
             f"each server pinned to core {SERVER_CORE}, the load client to core {CLIENT_CORE}.", "",
             "| server | pages (N) | messages/s offered | deliveries/s | × raw | p50 | p99 | delivered | "
             "server CPU per delivery |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    raw = {(r["n"], r["rate"]): r for r in results["fanout"] if r["server"] == "raw"}
    for row in results["fanout"]:
        base = raw.get((row["n"], row["rate"]), {})
        ratio = (f"{row['deliveries_per_s'] / base['deliveries_per_s']:.2f}"
                 if row.get("deliveries_per_s") and base.get("deliveries_per_s") else "—")
        lines.append(
            f"| {row['server']} | {row['n']:,} | {row['rate']:g} | {fmt(row.get('deliveries_per_s'))} | {ratio} | "
            f"{ms(row.get('p50_ms'))} | {ms(row.get('p99_ms'))} | {pct(row.get('completion'))} | "
            f"{us(row.get('server_cpu_us_per_delivery'))} |")
    lines += ["", "| server | idle connections | memory per connection |", "|---|---:|---:|"]
    for row in results["idle"]:
        lines.append(f"| {row['server']} | {fmt(row.get('n'))} | {row.get('kib_per_connection', '—')} KiB |")
    lines += ["", "| page | requests/s | p50 | p99 | server CPU per request |", "|---|---:|---:|---:|---:|"]
    for name, row in results["pages"].items():
        lines.append(f"| {name} | {fmt(row.get('requests_per_s'))} | {ms(row.get('p50_ms'))} | "
                     f"{ms(row.get('p99_ms'))} | {row.get('server_cpu_ms_per_request', '—')} ms |")
    history = results.get("history", {})
    if "requests_per_s" in history:
        lines.append(f"| history page (API), random `before`, {history['messages']:,} messages in PostgreSQL, "
                     "1 reader | "
                     f"{fmt(history['requests_per_s'])} | {ms(history['p50_ms'])} | {ms(history['p99_ms'])} | "
                     f"{history.get('server_cpu_ms_per_request', '—')} ms |")
    if "databases" in results.get("search", {}):
        import search

        lines += ["", search.table(results["search"])]
    if "p95_ms" in results.get("push", {}):
        import push

        lines += ["", push.table(results["push"])]
    if "thumb_p95_ms" in results.get("files", {}):
        import files

        lines += ["", files.table(results["files"])]
    if "databases" in results.get("messages", {}):
        import messages

        lines += ["", messages.table(results["messages"])]
    if "pages" in results.get("lighthouse", {}):
        import lighthouse

        lines += ["", lighthouse.table(results["lighthouse"])]
    return "\n".join(lines)


def fmt(value) -> str:
    return f"{value:,.0f}" if isinstance(value, (int, float)) else "—"


def ms(value) -> str:
    return f"{value:g} ms" if isinstance(value, (int, float)) else "—"


def us(value) -> str:
    return f"{value:g} µs" if isinstance(value, (int, float)) else "—"


def pct(value) -> str:
    return f"{100 * value:.1f}%" if isinstance(value, (int, float)) else "—"


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    servers = ["raw", "quart", "huddle", "huddle+redis"]
    colours = ["#8a8f98", "#c9a227", "#2f6fde", "#7b4fd6"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))

    def rows(kind, n, rate):
        return [next((r for r in results["fanout"] if r["server"] == s and r["kind"] == kind and r["n"] == n
                      and r["rate"] == rate), {}) for s in servers]

    saturated = rows("saturation", 1000, 100)
    axes[0].bar(servers, [r.get("deliveries_per_s") or 0 for r in saturated], color=colours)
    axes[0].set_title("Deliveries/s, 1,000 pages, 100 msg/s offered")
    latency = rows("latency", 1000, 20)
    axes[1].bar(servers, [r.get("p99_ms") or 0 for r in latency], color=colours)
    axes[1].axhline(150, color="#c0392b", linestyle="--", linewidth=1)
    axes[1].set_title("p99 post-to-delivery (ms), 1,000 pages, 20 msg/s")
    idle = [next((r for r in results["idle"] if r["server"] == s), {}) for s in servers]
    axes[2].bar(servers, [r.get("kib_per_connection") or 0 for r in idle], color=colours)
    axes[2].axhline(64, color="#c0392b", linestyle="--", linewidth=1)
    axes[2].set_title("Server memory per idle connection (KiB)")
    for axis in axes:
        axis.tick_params(axis="x", labelsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_readme(text: str) -> None:
    readme = ROOT / "README.md"
    content = readme.read_text()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start in content and end in content:
        head, rest = content.split(start, 1)
        content = head + start + "\n" + text + "\n" + end + rest.split(end, 1)[1]
        readme.write_text(content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer, smaller runs (a smoke test)")
    parser.add_argument("--report-only", action="store_true", help="rewrite the table and chart from latest.json")
    parser.add_argument("--only", default="fanout,idle,pages,history,search,push,files,messages,lighthouse",
                        help="some of: fanout,idle,pages,history,search,push,files,messages,lighthouse")
    parser.add_argument("--servers", default="raw,quart,huddle,huddle+redis", help="which servers' fan-out to run")
    args = parser.parse_args()
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    whole = not args.quick and args.only == parser.get_default("only") and args.servers == parser.get_default("servers")
    if args.report_only:
        results = json.loads((out / "latest.json").read_text())
    else:
        results = run(args.quick, set(args.only.split(",")), args.servers.split(","))
        # Only a whole run replaces the published figures; a partial one is kept beside them. Search,
        # push, files, messages and lighthouse stand apart from the rest: a full-size `--only search`
        # (or push, files, messages, lighthouse) run replaces just its own figures.
        (out / ("latest.json" if whole else "partial.json")).write_text(json.dumps(results, indent=2))
        apart = {key: results[key] for key, done in (("search", "databases"), ("push", "p95_ms"),
                                                     ("files", "thumb_p95_ms"),
                                                     ("messages", "databases"), ("lighthouse", "pages"))
                 if done in results.get(key, {})}
        if not whole and not args.quick and apart:
            results = {**json.loads((out / "latest.json").read_text()), **apart}
            (out / "latest.json").write_text(json.dumps(results, indent=2))
            whole = True
    text = table(results)
    print(text)
    if whole or args.report_only:
        write_readme(text)
        chart(results, ROOT / "docs" / "bench.png")


if __name__ == "__main__":
    main()
