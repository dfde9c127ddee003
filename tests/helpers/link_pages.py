"""A little web site of our own on 127.0.0.1 for link previews' tests: pages and images the test
chooses (path → status, type, body), every request counted, in a thread of its own. A test's site
allows it by HUDDLE_PREVIEW_ALLOWED_HOSTS (`host`), so the real fetcher reaches it; one not allowed
shows the fetcher refusing (nothing asked of it)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.helpers.ports import free_port


def article(title: str, description: str = "", image: str = "", site: str = "") -> bytes:
    """An HTML page describing itself with Open Graph tags (its values as given: escape them yourself)."""
    metas = [f'<meta property="og:title" content="{title}">']
    if description:
        metas.append(f'<meta property="og:description" content="{description}">')
    if image:
        metas.append(f'<meta property="og:image" content="{image}">')
    if site:
        metas.append(f'<meta property="og:site_name" content="{site}">')
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title>{''.join(metas)}</head>"
            "<body><p>The page itself, which no preview shows.</p></body></html>").encode()


@dataclass
class LinkPages:
    """Serving `answers` (path → (status, content type, body)); `asked` lists the paths requested."""

    answers: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def page(self, path: str, body: bytes, status: int = 200) -> str:
        self.answers[path] = (status, "text/html; charset=utf-8", body)
        return self.url(path)

    def file(self, path: str, body: bytes, content_type: str) -> str:
        self.answers[path] = (200, content_type, body)
        return self.url(path)

    def start(self) -> LinkPages:
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                pages.asked.append(self.path)
                status, kind, body = pages.answers.get(self.path, (404, "text/plain", b"not here"))
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
