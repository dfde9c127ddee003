"""Static files under versioned URLs: `url_for('static', filename=…)` adds `?v=<content hash>`,
and a request carrying the current hash is cached by browsers for a year (`immutable`), so a new
release is fetched at once and never mixed with an old script. A URL without the hash, or with a
hash from before a release (a page still open), is still served — the current bytes, with a
short cache.

The files are read and hashed once, on the first URL or request that needs them (importing and
building the app touch no disk); each is compressed once per encoding, when first asked for, and
the bytes kept (app/web/compression.py negotiates which). A stylesheet's relative `url(...)`s are
rewritten to carry their file's hash, so its hash changes with theirs. With
QUART_TEMPLATES_AUTO_RELOAD (development) the folder is looked at again before each request and
everything rebuilt when a file changed.

What must keep one fixed URL is not here: the service worker and the manifest have their own
routes (app/notify/push_routes.py, `no-cache`)."""
from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quart import Quart, Response, request

from app.web import compression

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"  # an unversioned or stale-hash URL: the current file, soon looked at again
HASH_LENGTH = 12
CSS_URL = re.compile(r"""url\(\s*(["']?)([^"')?#]+)\1\s*\)""")
KEY = "huddle.assets"


@dataclass
class Asset:
    data: bytes
    version: str
    mimetype: str
    encoded: dict[str, bytes] = field(default_factory=dict)  # "br"/"gzip" → the bytes, made once


class Assets:
    """The static folder's files by name (POSIX, relative to the folder): bytes, hash, type."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, Asset] | None = None
        self.stamp: tuple = ()
        self.locks: dict[tuple[str, str], asyncio.Lock] = {}

    def _scan(self) -> tuple:
        """What changes when a file does: every name, size and modification time."""
        found = []
        for path in sorted(self.folder.rglob("*")):
            if path.is_file():
                stat = path.stat()
                found.append((path.relative_to(self.folder).as_posix(), stat.st_size, stat.st_mtime_ns))
        return tuple(found)

    def load(self) -> dict[str, Asset]:
        if self.files is None:
            self.stamp = self._scan()
            self.files = build(self.folder, [name for name, _, _ in self.stamp])
        return self.files

    def refresh(self) -> bool:
        """Development: rebuild when a file was added, removed or changed. True when rebuilt."""
        stamp = self._scan()
        if self.files is not None and stamp == self.stamp:
            return False
        self.stamp, self.files = stamp, build(self.folder, [name for name, _, _ in stamp])
        return True

    def version(self, filename: str) -> str | None:
        asset = self.load().get(filename)
        return asset.version if asset else None

    async def encoded(self, filename: str, asset: Asset, coding: str) -> bytes:
        """The file compressed with `coding`, made once (off the event loop: the biggest script
        takes a second at brotli's best) and kept."""
        if coding not in asset.encoded:
            async with self.locks.setdefault((filename, coding), asyncio.Lock()):
                if coding not in asset.encoded:
                    asset.encoded[coding] = await asyncio.to_thread(compression.compress, asset.data, coding, best=True)
        return asset.encoded[coding]


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:HASH_LENGTH]


def _mimetype(name: str) -> str:
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return "text/javascript" if kind == "application/javascript" else kind


def build(folder: Path, names: list[str]) -> dict[str, Asset]:
    """Every file hashed; stylesheets last, once what they refer to has its hash."""
    files: dict[str, Asset] = {}
    sheets = [name for name in names if name.endswith(".css")]
    for name in names:
        if name not in sheets:
            data = (folder / name).read_bytes()
            files[name] = Asset(data, _hash(data), _mimetype(name))
    for name in sheets:
        data = versioned_css((folder / name).read_bytes(), name, files)
        files[name] = Asset(data, _hash(data), _mimetype(name))
    return files


def versioned_css(data: bytes, name: str, files: dict[str, Asset]) -> bytes:
    """The stylesheet with each relative `url(...)` of a known file given `?v=<its hash>`."""
    base = os.path.dirname(name)

    def versioned(match: re.Match) -> str:
        quote, target = match.groups()
        if ":" in target or target.startswith("/"):
            return match.group(0)  # data:, another site, or an absolute path: left as written
        asset = files.get(os.path.normpath(os.path.join(base, target)).replace(os.sep, "/"))
        if asset is None:
            return match.group(0)
        return f"url({quote}{target}?v={asset.version}{quote})"

    return CSS_URL.sub(versioned, data.decode("utf-8")).encode("utf-8")


def assets_of(app: Quart) -> Assets:
    return app.extensions[KEY]


async def send(app: Quart, filename: str) -> Response | None:
    """The static file's response (None: no such file; Quart's own answer then). The current hash
    in `v` is cached for a year; anything else briefly. Compressed bytes for a client that takes
    them, except when a byte range is asked for (ranges are of the identity bytes)."""
    assets = assets_of(app)
    asset = assets.load().get(filename)
    if asset is None:
        return None
    coding = None
    if "Range" not in request.headers and compression.compressible(asset.mimetype, len(asset.data)):
        coding = compression.chosen(request)
    body = await assets.encoded(filename, asset, coding) if coding else asset.data
    response = Response(body, mimetype=asset.mimetype)
    response.headers["Cache-Control"] = IMMUTABLE if request.args.get("v") == asset.version else SHORT
    response.set_etag(f"{asset.version}-{coding}" if coding else asset.version)
    if coding:
        response.headers["Content-Encoding"] = coding
    if compression.compressible(asset.mimetype, len(asset.data)):
        response.vary.add("Accept-Encoding")
    return await response.make_conditional(request, accept_ranges=coding is None, complete_length=len(body))


def init_app(app: Quart) -> None:
    assets = app.extensions[KEY] = Assets(Path(app.static_folder))

    @app.url_defaults
    def add_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "v" not in values:
            version = assets.version(values.get("filename", ""))
            if version:
                values["v"] = version

    if app.config.get("TEMPLATES_AUTO_RELOAD"):
        @app.before_request
        async def reload() -> None:
            if assets.refresh():
                app.paths.clear()  # path_for's remembered URLs carry the old hashes
