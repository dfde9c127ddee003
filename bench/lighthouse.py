"""What a browser measures (issue 23): Lighthouse 12 (desktop preset) against Debian's Chromium on
each kind of page, as a signed-in person sees it.

    .venv/bin/python bench/lighthouse.py [--runs 3] [--page chat]   (or: bench/run.py --only lighthouse)

The real app (Hypercorn, SQLite, one worker) with #general holding 30 messages by two people (plain
lines, formatting, a code block, links with their preview cards, mentions, an image attachment, a
thread), a direct
conversation, and ada (an administrator) signed in by her session's cookie, sent with every request
(`--extra-headers`). Lighthouse is the npm package pinned in bench/lighthouse/package.json (`npm ci`
there when node_modules is missing), run as `node …/lighthouse/cli/index.js URL --preset=desktop`
with CHROME_PATH=/usr/bin/chromium. Each page is measured --runs times; the median run (by its
performance score, then CLS) is reported: the four category scores, cumulative layout shift, largest
contentful paint and total blocking time, and the audits that did not pass. Writes
bench/results/lighthouse.json."""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from common import LINES, PASSWORD, ROOT

HERE = ROOT / "bench" / "lighthouse"
CLI = HERE / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def installed() -> None:
    """`npm ci` in bench/lighthouse when the pinned package is not there yet."""
    if not CLI.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, capture_output=True)


def picture() -> bytes:
    """A 1200 × 800 PNG (a photo-like gradient), the attachment one message carries."""
    from PIL import Image

    image = Image.linear_gradient("L").resize((1200, 800)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def upload(server, token: str, data: bytes) -> dict:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"chart.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(server.url + "/api/v1/uploads", method="POST", data=body, headers={
        "Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    return json.load(urllib.request.urlopen(request, timeout=60))["data"]


def card_page(pages) -> str:
    """A page of our own (tests/helpers/link_pages.py) whose link gets a preview card with an image."""
    from tests.helpers.link_pages import article

    image = pages.file("/release.png", picture(), "image/png")
    return pages.page("/release", article("Release 0.9: faster pages", "What changed in this release, and what "
                                          "to do when upgrading from 0.8.", image, "Huddle notes"))


def previewed(server, token: str, conversation: int, message: int) -> None:
    """Wait (a minute at most) until the message's link has its card."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = server.api("GET", f"/api/v1/conversations/{conversation}/messages?limit=50", token)["data"]["messages"]
        if any(row["id"] == message and row.get("preview") for row in found):
            return
        time.sleep(0.2)
    raise RuntimeError("no preview card came")


def filled(server, link: str) -> dict[str, str]:
    """The site's people and talk; each page's path by name."""
    server.create_user("ada", PASSWORD, admin=True)
    server.create_user("bob", PASSWORD)
    tokens = {name: server.api_token(name, PASSWORD) for name in ("ada", "bob")}
    general = next(c for c in server.api("GET", "/api/v1/conversations", tokens["ada"])["data"]
                   if c.get("name") == "general")
    posts = f"/api/v1/conversations/{general['id']}/messages"
    first = None
    for number in range(30):
        author = tokens[("bob", "ada")[number % 2]]
        body: dict = {"text": LINES[number % len(LINES)].format(link=link)}
        if number == 20:
            body = {"text": "The chart from this morning:", "attachments": [upload(server, author, picture())["id"]]}
        message = server.api("POST", posts, author, body)["data"]
        first = first or message
        if "{link}" in LINES[number % len(LINES)]:
            previewed(server, author, general["id"], message["id"])
    thread = server.api("POST", f"/api/v1/messages/{first['id']}/thread", tokens["ada"])["data"]
    for name in ("ada", "bob"):
        server.api("POST", f"/api/v1/conversations/{thread['id']}/messages", tokens[name],
                   {"text": f"{name} replies in the thread"})
    direct = server.api("POST", "/api/v1/conversations", tokens["ada"], {"usernames": ["bob"]})["data"]
    for number in range(6):
        server.api("POST", f"/api/v1/conversations/{direct['id']}/messages", tokens[("bob", "ada")[number % 2]],
                   {"text": LINES[number].format(link=link)})
    return {
        "chat room, 30 messages": f"/chat/{general['id']}",
        "direct conversation": f"/chat/{direct['id']}",
        "login": "/login",
        "admin (users)": "/admin/users",
        "search results": "/search?q=migration",
        "threads view": "/chat/threads",
        "settings (notifications)": "/account/notifications",
    }


def lighthouse(url: str, cookie: str | None) -> dict:
    """One Lighthouse run: its scores, metrics and the audits that did not pass."""
    command = ["node", str(CLI), url, "--preset=desktop", "--output=json", "--quiet",
               "--chrome-flags=--headless=new --no-sandbox"]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    done = subprocess.run(command, cwd=HERE, env={**os.environ, "CHROME_PATH": CHROME}, capture_output=True,
                          text=True, timeout=300)
    if done.returncode:
        raise RuntimeError(f"lighthouse failed on {url}: {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    audits = report["audits"]
    failing = sorted({ref["id"] for name in CATEGORIES for ref in report["categories"][name]["auditRefs"]
                      if ref["weight"] and (audits[ref["id"]].get("score") is not None)
                      and audits[ref["id"]]["score"] < 0.9})
    return {
        **{name: round(100 * (report["categories"][name]["score"] or 0)) for name in CATEGORIES},
        "cls": round(audits["cumulative-layout-shift"]["numericValue"], 3),
        "lcp_ms": round(audits["largest-contentful-paint"]["numericValue"]),
        "tbt_ms": round(audits["total-blocking-time"]["numericValue"]),
        "failing": failing,
        "shifts": [item.get("node", {}).get("selector") for item in
                   (audits.get("layout-shifts", {}).get("details") or {}).get("items", [])][:5],
    }


def run(runs: int = 3, only: str | None = None, report=print) -> dict:
    from tests.helpers.server import Server

    installed()
    results: dict = {"lighthouse": json.loads((HERE / "package.json").read_text())["dependencies"]["lighthouse"],
                     "chromium": subprocess.run([CHROME, "--version"], capture_output=True, text=True).stdout.strip(),
                     "runs": runs, "pages": {}}
    from tests.helpers.link_pages import LinkPages

    site = LinkPages().start()
    with tempfile.TemporaryDirectory() as folder:
        server = Server(Path(folder), HUDDLE_POSTS_PER_10_SECONDS="100000", HUDDLE_LOGIN_FAILURES_PER_IP="100000",
                        HUDDLE_LINK_PREVIEWS="on", HUDDLE_PREVIEW_ALLOWED_HOSTS=site.host)
        try:
            pages = filled(server, card_page(site))
            cookie = server.login_cookie("ada", PASSWORD)
            for name, path in pages.items():
                if only and only not in name:
                    continue
                measured = []
                for number in range(runs):
                    report(f"lighthouse: {name}, run {number + 1}/{runs}")
                    measured.append(lighthouse(server.url + path, None if path == "/login" else cookie))
                measured.sort(key=lambda row: (row["performance"], -row["cls"]))
                row = dict(measured[len(measured) // 2])
                row["performance_runs"] = [m["performance"] for m in measured]
                row["cls_median"] = statistics.median(m["cls"] for m in measured)
                results["pages"][name] = row
        finally:
            server.stop()
            site.close()
    return results


def table(results: dict) -> str:
    rows = [f"Lighthouse {results['lighthouse']} (`bench/lighthouse.py`, desktop preset, {results['chromium']}), "
            f"the median of {results['runs']} runs per page:", "",
            "| page | performance | accessibility | best practices | SEO | CLS | LCP | TBT |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, row in results["pages"].items():
        rows.append(f"| {name} | {row['performance']} | {row['accessibility']} | {row['best-practices']} | "
                    f"{row['seo']} | {row['cls']:.3f} | {row['lcp_ms']} ms | {row['tbt_ms']} ms |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page", help="only the pages whose name contains this")
    args = parser.parse_args()
    if not shutil.which("node"):
        sys.exit("Lighthouse needs Node.js (node and npm)")
    results = run(args.runs, args.page, report=lambda text: print(f"\r{text:<78}", end="", file=sys.stderr,
                                                                   flush=True))
    print(file=sys.stderr)
    if not args.page:
        (ROOT / "bench" / "results" / "lighthouse.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({name: {k: row[k] for k in ("failing", "shifts", "performance_runs")}
                      for name, row in results["pages"].items()}, indent=1))
    print(table(results))


if __name__ == "__main__":
    main()
