"""Where files are kept: one interface (Storage), two places behind it — the data folder
(LocalStorage, the default) and an S3-compatible bucket (S3Storage, for several hosts).

Keys are the SHA-256 of the stored bytes in lowercase hex (`key_of`): the same file uploaded twice
is stored once, a stored file never changes, and copying keys from one storage to another
(`python -m app move-files`) is safe to stop and start again. Nothing but such a key ever reaches
a path or an object name: a person's file name stays in the database. A key of any other shape is
refused (InvalidKey) before any I/O.

This is infrastructure: it imports no feature. What a file is, who may read it and what it is
called are the callers' business; app/storage/serve.py answers a request for one, once they have
decided."""
from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from app.config import Settings

KEY = re.compile(r"[0-9a-f]{64}")
CHUNK = 64 * 1024


class InvalidKey(ValueError):
    """A key that is not 64 lowercase hex digits: never turned into a path or an object name."""


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise InvalidKey(f"not a storage key: {key!r:.80}")
    return key


def key_of(data: bytes) -> str:
    """The key bytes are stored under."""
    return hashlib.sha256(data).hexdigest()


def key_of_file(path: Path) -> str:
    """The key a file is stored under, read in chunks (never all of it in memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


class Storage(Protocol):
    """Files by key. `put_*` of a key already stored does nothing (its bytes are the same: the
    key is their hash). Missing files: `exists` False, `size` None, `delete` does nothing, and
    `stream`, `read_bytes` and `copy_to_path` raise FileNotFoundError."""

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store the file at path (it stays the caller's to remove)."""

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None: ...

    async def size(self, key: str) -> int | None: ...

    def stream(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes from start up to end (exclusive; None: to the end of the file), in chunks."""

    async def read_bytes(self, key: str) -> bytes: ...

    async def copy_to_path(self, key: str, path: Path) -> None:
        """Write the file to a local path (to decode a big image without holding it in memory)."""

    def keys(self) -> AsyncIterator[str]:
        """Every stored key, in no particular order."""

    async def signed_url(self, key: str, *, filename: str, content_type: str, inline: bool,
                         seconds: int = 300) -> str | None:
        """A short-lived URL that downloads the file with these headers, or None: stream it
        through Huddle instead (app/storage/serve.py)."""

    async def close(self) -> None: ...


def open_storage(settings: Settings, url: str | None = None) -> Storage:
    """The storage HUDDLE_STORAGE_URL names (or url): unset, the data folder's files/; a path or
    file:///path, that folder; s3://bucket[/prefix]?endpoint=https://host&region=…, a bucket.
    Nothing connects yet."""
    url = settings.storage_url if url is None else url
    if not url:
        from app.storage.local import LocalStorage

        return LocalStorage(settings.data_dir / "files")
    parts = urlsplit(url)
    if parts.scheme == "s3":
        from app.storage.s3 import S3Storage

        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"endpoint", "region"}
        if not parts.netloc or unknown:
            raise ValueError(f"Unsupported HUDDLE_STORAGE_URL {url!r}: use s3://bucket?endpoint=https://host&region=name")
        return S3Storage(parts.netloc, prefix=parts.path.strip("/"), endpoint=query.get("endpoint"),
                         region=query.get("region"))
    if parts.scheme in {"", "file"} and (parts.path or parts.netloc):
        from app.storage.local import LocalStorage

        return LocalStorage(Path(parts.path if parts.scheme else url))
    raise ValueError(f"Unsupported HUDDLE_STORAGE_URL {url!r}: leave it unset for the data folder, "
                     "or use s3://bucket?endpoint=https://host&region=name")
