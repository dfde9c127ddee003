"""Files in a folder of this host (the data folder's files/ by default), by key:
`files/ab/cd/abcd…` (two levels, so no folder holds more than a few thousand entries).

A file appears whole or not at all: it is linked into place from the caller's file (no copy on
the same disk), or copied to a temporary name beside its place and renamed. Stored files are
never written again (their key is their content), so readers need no lock. Disk work runs in a
thread: the event loop never waits for the disk."""
from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from app.storage import CHUNK, KEY, check_key

TEMPORARY = ".part-"


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStorage({os.path.abspath(self.root)!r})"

    def path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key[2:4] / key

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        await asyncio.to_thread(self._place, self.path(key), Path(path), None)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._place, self.path(key), None, data)

    @staticmethod
    def _place(target: Path, source: Path | None, data: bytes | None) -> None:
        if target.exists():
            return  # the same bytes: the key is their hash
        target.parent.mkdir(parents=True, exist_ok=True)
        if source is not None:
            try:
                os.link(source, target)  # the caller's file, never written again, becomes the stored one
                return
            except FileExistsError:
                return  # stored meanwhile by another request
            except OSError:
                pass  # another disk, or no hard links here: copy
        descriptor, name = tempfile.mkstemp(prefix=TEMPORARY, dir=target.parent)
        try:
            with os.fdopen(descriptor, "wb") as file:
                if source is not None:
                    with open(source, "rb") as original:
                        shutil.copyfileobj(original, file, CHUNK * 16)
                else:
                    file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).is_file)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, True)

    async def size(self, key: str) -> int | None:
        path = self.path(key)
        try:
            return (await asyncio.to_thread(path.stat)).st_size
        except FileNotFoundError:
            return None

    async def stream(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self.path(key)
        file = await asyncio.to_thread(open, path, "rb")
        try:
            await asyncio.to_thread(file.seek, start)
            left = None if end is None else max(0, end - start)
            while left is None or left > 0:
                chunk = await asyncio.to_thread(file.read, CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    break
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            file.close()

    async def read_bytes(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path(key).read_bytes)

    async def copy_to_path(self, key: str, path: Path) -> None:
        await asyncio.to_thread(shutil.copyfile, self.path(key), path)

    async def keys(self) -> AsyncIterator[str]:
        # A folder at a time: a million files are never one list in memory.
        for folder in await asyncio.to_thread(self._folders):
            for name in await asyncio.to_thread(os.listdir, folder):
                if KEY.fullmatch(name) and name.startswith(folder.parent.name + folder.name):
                    yield name

    def _folders(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(path for path in self.root.glob("??/??") if path.is_dir())

    async def signed_url(self, key: str, *, filename: str, content_type: str, inline: bool,
                         seconds: int = 300) -> str | None:
        check_key(key)
        return None  # a folder has no URL of its own: Huddle streams the file

    async def close(self) -> None:
        pass
