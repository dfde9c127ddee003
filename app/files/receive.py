"""An upload as it streams in: multipart/form-data read part by part (werkzeug's sans-IO decoder),
each `file` part written to a temp file in the data folder's tmp/ while it is hashed and counted,
the small fields beside it (text, client_id, csrf_token…) kept in memory, bounded.

Nothing is ever held whole in memory, and a file past the limit is refused the moment it passes
it (TooLarge: the temp files are removed, nothing is stored), or before a byte is read when the
declared Content-Length cannot fit. Temp files are named by tempfile, never by the sender: the
name a person gave stays a string for the database (app/files/service.py)."""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import NEED_DATA, Data, Epilogue, Field, File, MultipartDecoder

from app.domain import DomainError, Invalid, TooLarge

FILE_FIELD = "file"
MAX_FILES = 10  # a message's attachments
MAX_FIELDS = 20  # other parts: the composer's text, client_id, csrf_token, attachments…
MAX_FIELD_BYTES = 64 * 1024  # a message's text (4,000 characters) fits with room to spare
OVERHEAD = 1024 * 1024  # the fields and every part's headers, on top of the files
PIECE = 64 * 1024  # fed to the decoder at a time: its buffer stays small
WRITE_AT = 1024 * 1024  # written to disk (in a thread) once this much is buffered

NOT_MULTIPART = "Send the file as multipart/form-data, in a field named “file”."
UNREADABLE = "The upload could not be read: send it again."


def size_text(size: int) -> str:
    """A size as people read it: "25 MB", "340 KB", "12 bytes"."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def too_many(most: int) -> str:
    return "Send one file at a time." if most == 1 else f"Attach at most {most} files to one message."


def too_large(limit: int) -> TooLarge:
    return TooLarge(f"A file can be at most {size_text(limit)}: this one is larger.")


@dataclass
class ReceivedFile:
    """One file as it arrived: where it waits (a temp file), the name it was sent with (never a
    path), its size and SHA-256 (the storage key, app/storage)."""

    path: Path
    name: str
    size: int = 0
    sha256: str = ""


@dataclass
class Received:
    files: list[ReceivedFile] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self.fields.get(name, ()))

    def discard(self) -> None:
        """Remove the temp files (whatever the service took has been stored by then)."""
        for each in self.files:
            with contextlib.suppress(FileNotFoundError):
                each.path.unlink()

    def __enter__(self) -> Received:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


class _Sink:
    """One file part being written: hashed, counted and refused past the limit as it goes."""

    def __init__(self, tmp_dir: Path, name: str, limit: int) -> None:
        fd, path = tempfile.mkstemp(prefix="upload-", dir=tmp_dir)
        self.handle = os.fdopen(fd, "wb")
        self.file = ReceivedFile(Path(path), name)
        self.limit, self.digest, self.pending = limit, hashlib.sha256(), bytearray()

    async def write(self, data: bytes) -> None:
        self.file.size += len(data)
        if self.file.size > self.limit:
            raise too_large(self.limit)
        self.digest.update(data)
        self.pending += data
        if len(self.pending) >= WRITE_AT:
            await self.flush()

    async def flush(self) -> None:
        if self.pending:
            data, self.pending = bytes(self.pending), bytearray()
            await asyncio.to_thread(self.handle.write, data)

    async def close(self) -> ReceivedFile:
        await self.flush()
        self.handle.close()
        self.file.sha256 = self.digest.hexdigest()
        return self.file


def boundary_of(content_type: str) -> bytes:
    kind, options = parse_options_header(content_type or "")
    boundary = options.get("boundary", "")
    if kind != "multipart/form-data" or not boundary or len(boundary) > 200 or not boundary.isascii():
        raise Invalid({FILE_FIELD: NOT_MULTIPART})
    return boundary.encode("ascii")


async def receive(chunks: AsyncIterable[bytes], content_type: str, *, limit: int, tmp_dir: Path,
                  max_files: int = MAX_FILES, declared: int | None = None) -> Received:
    """Read a multipart body: each `file` part (at most max_files, each at most limit bytes) to a
    temp file in tmp_dir, the other fields into `fields`. An empty file part with no name (a form's
    file input left empty) is no file. On any refusal the temp files are gone before it raises."""
    boundary = boundary_of(content_type)
    if declared is not None and declared > limit * max_files + OVERHEAD:
        raise too_large(limit)
    await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
    decoder = MultipartDecoder(boundary, max_form_memory_size=PIECE + MAX_FIELD_BYTES,
                               max_parts=max_files + MAX_FIELDS)
    received, sink, field_name, value = Received(), None, None, bytearray()
    try:
        async for chunk in _pieces(chunks):
            decoder.receive_data(chunk)
            while (event := decoder.next_event()) is not NEED_DATA:
                if isinstance(event, File) and event.name == FILE_FIELD:
                    if len(received.files) >= max_files:
                        raise Invalid({FILE_FIELD: too_many(max_files)})
                    sink = _Sink(tmp_dir, event.filename, limit)
                    received.files.append(sink.file)
                elif isinstance(event, Field | File):  # a field; a file under another name is ignored
                    field_name = event.name if isinstance(event, Field) else None
                    value.clear()
                elif isinstance(event, Data):
                    if sink is not None:
                        await sink.write(event.data)
                        if not event.more_data:
                            await sink.close()
                            if sink.file.size == 0 and not sink.file.name:
                                received.files.remove(sink.file)  # nothing chosen
                                sink.file.path.unlink()
                            sink = None
                    elif field_name is not None:
                        value += event.data
                        if len(value) > MAX_FIELD_BYTES:
                            raise TooLarge(f"“{field_name[:40]}” is too long.", field_name[:40])
                        if not event.more_data:
                            received.fields.setdefault(field_name, []).append(_text(value))
                            field_name = None
                elif isinstance(event, Epilogue):
                    break
        if sink is not None or decoder.state.name not in {"EPILOGUE", "COMPLETE"}:
            raise Invalid({FILE_FIELD: UNREADABLE})  # the body ended inside a part
    except BaseException as error:
        if sink is not None:
            sink.handle.close()
        received.discard()
        refusal = error
        if isinstance(error, RequestEntityTooLarge):
            refusal = TooLarge("The form has too many parts, or a part's headers are too long.")
        elif isinstance(error, ValueError | UnicodeDecodeError):
            refusal = Invalid({FILE_FIELD: UNREADABLE})
        if isinstance(refusal, DomainError):
            refusal.fields = received.fields  # what came before: a form shows the text typed again
        if refusal is error:
            raise
        raise refusal from None
    return received


async def _pieces(chunks: AsyncIterable[bytes]):
    async for chunk in chunks:
        for start in range(0, len(chunk), PIECE):
            yield chunk[start:start + PIECE]


def _text(value: bytearray) -> str:
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid({FILE_FIELD: "A field of the form is not UTF-8 text."}) from None
