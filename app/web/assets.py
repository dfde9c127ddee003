"""Static files under versioned URLs: `url_for('static', filename=…)` adds `?v=<content hash>`,
and a request carrying the current hash is cached by browsers for a year (`immutable`), so a new
release is fetched at once and never mixed with an old script. A URL without the hash, or with a
hash from before a release (a page still open), is still served — the current bytes, with a
short cache.

The files are read and hashed once, on the first URL or request that needs them (importing and
building the app touch no disk); each is compressed once per encoding, when first asked for, and
the bytes kept (app/web/compression.py negotiates which). A stylesheet's relative `url(...)`s are
rewritten to carry their file's hash, so its hash changes with theirs.

What blocks a page's first paint comes in one request per kind, not one per file: each of BUNDLES
is its parts (still one small source file per behaviour, each still served on its own) put one
after another, under one versioned URL of its own, built, hashed and compressed like a file. A
bundle's folder is as deep as its parts' (`bundle/` beside `css/`), so a relative `url(...)` means
the same file in it; one that would not is rewritten relative to the bundle. With
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
# name → its parts in order. The layout loads each by url_for('static', filename=name). The scripts
# are each one IIFE ending in ";", so one after another they run as they would one by one.
PAINT_SCRIPTS = ("mine", "grouping", "times", "attach", "hint", "opening")
BUNDLES: dict[str, tuple[str, ...]] = {
    "bundle/huddle.css": ("css/huddle.css", "css/formatting.css", "css/threads.css"),
    "bundle/paint.js": tuple(f"js/{name}.js" for name in PAINT_SCRIPTS),
}


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
    """Every file hashed; stylesheets after what they refer to has its hash; bundles last."""
    files: dict[str, Asset] = {}
    sheets = [name for name in names if name.endswith(".css")]
    for name in names:
        if name not in sheets:
            data = (folder / name).read_bytes()
            files[name] = Asset(data, _hash(data), _mimetype(name))
    for name in sheets:
        data = versioned_css((folder / name).read_bytes(), name, files)
        files[name] = Asset(data, _hash(data), _mimetype(name))
    for name, parts in BUNDLES.items():
        if name in files:
            raise RuntimeError(f"static/{name} is a bundle's name: rename the file")
        if all(part in files for part in parts):
            data = bundled(folder, name, parts, files)
            files[name] = Asset(data, _hash(data), _mimetype(name))
    return files


def bundled(folder: Path, name: str, parts: tuple[str, ...], files: dict[str, Asset]) -> bytes:
    """The parts one after another, each ending in a newline; a stylesheet's relative `url(...)`s
    rewritten (versioned) as seen from the bundle's folder."""
    pieces = []
    for part in parts:
        data = files[part].data
        if part.endswith(".css"):
            data = versioned_css((folder / part).read_bytes(), part, files, served_as=name)
        pieces.append(data if data.endswith(b"\n") else data + b"\n")
    return b"".join(pieces)


def versioned_css(data: bytes, name: str, files: dict[str, Asset], served_as: str | None = None) -> bytes:
    """The stylesheet with each relative `url(...)` of a known file given `?v=<its hash>`; when it
    is served as another name (in a bundle), the path is written relative to that one's folder."""
    base = os.path.dirname(name)
    served_base = os.path.dirname(served_as or name)

    def versioned(match: re.Match) -> str:
        quote, target = match.groups()
        if ":" in target or target.startswith("/"):
            return match.group(0)  # data:, another site, or an absolute path: left as written
        path = os.path.normpath(os.path.join(base, target)).replace(os.sep, "/")
        asset = files.get(path)
        if asset is None:
            return match.group(0)
        if served_base != base:
            target = os.path.relpath(path, served_base or ".").replace(os.sep, "/")
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
