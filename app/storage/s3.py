"""Files in an S3-compatible bucket (AWS, MinIO, Ceph, R2, …), for several hosts sharing them:
`HUDDLE_STORAGE_URL=s3://bucket[/prefix]?endpoint=https://host&region=name`, the credentials from
the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) as every S3 tool reads them.

The bucket stays private: a file reaches a browser either through Huddle (streamed) or by a URL
signed for a few minutes, made only after Huddle's own check, that downloads with the type and
Content-Disposition Huddle chose (ResponseContentType, ResponseContentDisposition), so the
redirect is no less safe than streaming it. One client per process, made on first use (start-up
does no I/O) and closed when serving stops."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from app.storage import CHUNK, KEY, check_key
from app.storage.headers import disposition, media_type, shown_inline

MISSING = {"404", "NoSuchKey", "NotFound"}


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in MISSING


class S3Storage:
    def __init__(self, bucket: str, *, prefix: str = "", endpoint: str | None = None, region: str | None = None):
        self.bucket, self.endpoint, self.region = bucket, endpoint, region
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self._client = None
        self._stack = contextlib.AsyncExitStack()
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, prefix={self.prefix!r}, endpoint={self.endpoint!r})"

    def name(self, key: str) -> str:
        return self.prefix + check_key(key)

    async def client(self):
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    # Path-style addresses at a named endpoint: MinIO and friends have no
                    # bucket subdomains. Signature v4 everywhere.
                    config = AioConfig(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"},
                                       s3={"addressing_style": "path" if self.endpoint else "auto"})
                    self._client = await self._stack.enter_async_context(get_session().create_client(
                        "s3", endpoint_url=self.endpoint, region_name=self.region, config=config))
        return self._client

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        name = self.name(key)
        if await self.exists(key):
            return
        client = await self.client()
        file = await asyncio.to_thread(open, path, "rb")
        try:  # read as it is sent, never whole in memory
            await client.put_object(Bucket=self.bucket, Key=name, Body=file, ContentType=content_type)
        finally:
            file.close()

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        name = self.name(key)
        if await self.exists(key):
            return
        await (await self.client()).put_object(Bucket=self.bucket, Key=name, Body=data, ContentType=content_type)

    async def size(self, key: str) -> int | None:
        name = self.name(key)
        try:
            head = await (await self.client()).head_object(Bucket=self.bucket, Key=name)
        except ClientError as error:
            if _missing(error):
                return None
            raise
        return head["ContentLength"]

    async def exists(self, key: str) -> bool:
        return await self.size(key) is not None

    async def delete(self, key: str) -> None:
        await (await self.client()).delete_object(Bucket=self.bucket, Key=self.name(key))

    async def stream(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        name = self.name(key)
        if end is not None and end <= start:
            return
        extra = {"Range": f"bytes={start}-{'' if end is None else end - 1}"} if start or end is not None else {}
        try:
            got = await (await self.client()).get_object(Bucket=self.bucket, Key=name, **extra)
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(key) from error
            raise
        async with got["Body"] as body:
            async for chunk in body.iter_chunks(CHUNK):
                yield chunk

    async def read_bytes(self, key: str) -> bytes:
        return b"".join([chunk async for chunk in self.stream(key)])

    async def copy_to_path(self, key: str, path: Path) -> None:
        check_key(key)
        file = await asyncio.to_thread(open, path, "wb")
        try:
            async for chunk in self.stream(key):
                await asyncio.to_thread(file.write, chunk)
        finally:
            file.close()

    async def keys(self) -> AsyncIterator[str]:
        pages = (await self.client()).get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        async for page in pages:
            for entry in page.get("Contents", ()):
                key = entry["Key"][len(self.prefix):]
                if KEY.fullmatch(key):
                    yield key

    async def signed_url(self, key: str, *, filename: str, content_type: str, inline: bool,
                         seconds: int = 300) -> str | None:
        params = {"Bucket": self.bucket, "Key": self.name(key), "ResponseContentType": media_type(content_type),
                  "ResponseContentDisposition": disposition(filename, inline=shown_inline(content_type, inline)),
                  "ResponseCacheControl": "private, max-age=300"}
        return await (await self.client()).generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)

    async def close(self) -> None:
        self._client = None
        await self._stack.aclose()
