"""Bytes on the wire (issue 23): a chat page of 50 messages and every static file it loads, as
sent with no compression, with gzip and with brotli (app/web/compression.py, app/web/assets.py).

    .venv/bin/python bench/bytes.py        (prints the README's table; writes bench/results/bytes.json)

Sizes are of the body as sent (Quart's test client in this process: the same bytes Hypercorn
sends); the 50 messages are a team's ordinary talk (plain lines, some formatting, a code block,
links, mentions) by two people in #general, the page as one of them sees it.
"""
from __future__ import annotations

import asyncio
import json
import re
import tempfile
from pathlib import Path

from common import LINES, PASSWORD, ROOT, migrate

TOKEN = re.compile(r'"X-CSRF-Token": "([^"]+)"')
STATIC = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def migrated(folder: Path) -> str:
    url = f"sqlite://{folder / 'huddle.db'}"
    migrate(url, folder)
    return url


async def sizes(client, path: str) -> dict[str, int]:
    """The body's size as sent under each Accept-Encoding."""
    found = {}
    for name, accept in (("identity", "identity"), ("gzip", "gzip"), ("br", "br, gzip")):
        response = await client.get(path, headers={"Accept-Encoding": accept})
        assert response.status_code == 200, (path, response.status_code)
        found[name] = len(await response.get_data())
    return found


async def measure(folder: Path) -> dict[str, dict[str, int]]:
    from app import create_app
    from app.chat import service
    from app.config import Settings
    from app.models import User
    from app.runtime import Runtime

    settings = Settings(data_dir=folder, database_url=migrated(folder), secret_key="bench", base_url="http://localhost",
                        registration="open", link_previews=False)
    app = create_app(settings)
    async with app.test_app():
        ada = await User.create_account("ada", "ada@example.com", PASSWORD)
        bob = await User.create_account("bob", "bob@example.com", PASSWORD)
        Runtime.of(app).limiters.post_user.limit = 1_000_000
        async with app.app_context():
            for person in (ada, bob):
                await service.welcome(person)
            general = await service.general()
            for number in range(50):
                await service.post((ada, bob)[number % 2], general, LINES[number % len(LINES)].format(link="https://example.com/pr/1423"))
        client = app.test_client()
        token = TOKEN.search(await (await client.get("/login")).get_data(as_text=True)).group(1)
        await client.post("/login", form={"username": "ada", "password": PASSWORD, "csrf_token": token})
        page = f"/chat/{general.id}"
        html = await (await client.get(page)).get_data(as_text=True)
        assert html.count('class="message') >= 50 or html.count("message-") >= 50, "the page shows the 50 messages"
        results = {"chat page, 50 messages (HTML)": await sizes(client, page)}
        for url in dict.fromkeys(STATIC.findall(html)):
            results[url.split("?")[0].removeprefix("/static/")] = await sizes(client, url.replace("&amp;", "&"))
    return results


def table(results: dict[str, dict[str, int]]) -> str:
    def kb(size: int) -> str:
        return f"{size / 1024:.1f} KB"

    rows = ["| Response | As it was | gzip | brotli |", "|---|---:|---:|---:|"]
    total = {"identity": 0, "gzip": 0, "br": 0}
    for name, size in results.items():
        rows.append(f"| {name} | {kb(size['identity'])} | {kb(size['gzip'])} | {kb(size['br'])} |")
        for key in total:
            total[key] += size[key]
    rows.append(f"| **all of it** | **{kb(total['identity'])}** | **{kb(total['gzip'])}** | **{kb(total['br'])}** |")
    return "\n".join(rows)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        results = asyncio.run(measure(Path(folder)))
    (ROOT / "bench" / "results" / "bytes.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))


if __name__ == "__main__":
    main()
