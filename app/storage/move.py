"""Copying every stored file to another storage (`python -m app move-files URL`): from the data
folder to a bucket when a site grows to several hosts, or back.

Safe to run while Huddle serves, to stop and to run again: a key names its bytes, so a file
already at the target is skipped, and each copy appears there whole or not at all. Each file is
checked against its key on the way (a damaged file is reported and left out, never spread). The
site keeps using the old storage until the operator sets HUDDLE_STORAGE_URL; files uploaded
meanwhile are copied by running the command once more just before the switch."""
from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.storage import Storage, key_of_file

WORKERS = 4
# The type is the database's business (every response sets it); the object needs one anyway.
STORED_TYPE = "application/octet-stream"


@dataclass
class Moved:
    copied: int = 0
    present: int = 0
    damaged: list[str] = field(default_factory=list)


async def move(source: Storage, target: Storage, tmp_dir: Path, *, say: Callable[[str], None] = print,
               every: int = 500) -> Moved:
    """Copy each of source's keys that target lacks, a few at a time, through a temporary file
    in tmp_dir (never a whole file in memory)."""
    moved = Moved()
    await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="move-", dir=tmp_dir))
    queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=WORKERS * 2)

    async def copy(key: str, path: Path) -> None:
        if await target.exists(key):
            moved.present += 1
            return
        try:
            await source.copy_to_path(key, path)
            if await asyncio.to_thread(key_of_file, path) != key:
                moved.damaged.append(key)
                return
            await target.put_file(key, path, STORED_TYPE)
        finally:
            await asyncio.to_thread(path.unlink, True)
        moved.copied += 1
        if moved.copied % every == 0:
            say(f"Copied {moved.copied} files so far…")

    async def worker(number: int) -> None:
        while (key := await queue.get()) is not None:
            await copy(key, folder / str(number))

    async def feed() -> None:
        async for key in source.keys():
            await queue.put(key)
        for _ in range(WORKERS):
            await queue.put(None)

    try:
        async with asyncio.TaskGroup() as group:  # one failure stops the rest, and is raised
            group.create_task(feed())
            for number in range(WORKERS):
                group.create_task(worker(number))
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)
    return moved
