"""Uploading as a browser's form or a program would: multipart bodies written by hand (so a test
chooses every byte of a part's headers: odd names, a lying Content-Type, a body cut short), sent
whole or in chunks through Quart's test client."""
from __future__ import annotations

from pathlib import Path

BOUNDARY = "----huddletestboundary7MA4YWxk"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def part(name: str, data: bytes | str, filename: str | None = None, content_type: str | None = None) -> bytes:
    """One part; filename is written as given (quotes and all), like a careless client would."""
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'
    if filename is not None:
        head += f'; filename="{filename}"'
    head += "\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode() + b"\r\n" + (data.encode() if isinstance(data, str) else data) + b"\r\n"


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def file_part(path: Path, name: str | None = None, content_type: str = "application/octet-stream") -> bytes:
    return part("file", path.read_bytes(), name if name is not None else path.name, content_type)


async def send(raw_client, path: str, data: bytes, *, headers: dict | None = None):
    """POST a multipart body whole."""
    headers = {"Content-Type": CONTENT_TYPE, **(headers or {})}
    return await raw_client.post(path, data=data, headers=headers)


async def page_upload(client, path: Path, *, name: str | None = None, content_type: str = "image/png",
                      url: str = "/uploads"):
    """The composer's script uploading one file (X-CSRF-Token header, Accept JSON)."""
    headers = {"X-CSRF-Token": await client.token(), "Accept": "application/json"}
    return await send(client.raw, url, body(file_part(path, name, content_type)), headers=headers)


async def api_upload(api, path: Path, *, name: str | None = None, content_type: str = "application/octet-stream"):
    """POST /api/v1/uploads with a bearer token."""
    return await send(api.raw, "/api/v1/uploads", body(file_part(path, name, content_type)), headers=api.headers())
