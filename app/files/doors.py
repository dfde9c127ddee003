"""What every files door shares (the pages' app/files/routes.py, the API's app/api/rest_files.py,
chat's composer): an upload form read as it streams (app/files/receive.py) into the data folder's
tmp/, and a file's answer once its reader is known.

For routes marked `@streams_body` (app/web/streaming.py): their body limit is what ten files at the
upload limit need, and their CSRF token, when a page's form sends it as a field rather than the
X-CSRF-Token header, is compared here, before any of it is kept. The API (a bearer token, no
cookie) needs none."""
from __future__ import annotations

from quart import Response, abort, current_app, request

from app.files import service
from app.files.receive import MAX_FILES, Received, receive
from app.models.files import READY
from app.models.user import User
from app.runtime import runtime
from app.storage import serve
from app.web.security import check_csrf_token
from app.web.urls import is_api_path


async def read_form(*, max_files: int = MAX_FILES) -> Received:
    """The form's files (temp files: `with` it, or discard()) and fields. TooLarge, Invalid."""
    settings = current_app.config["HUDDLE"]
    received = await receive(request.body, request.content_type or "", limit=settings.upload_max_bytes,
                             tmp_dir=settings.data_dir / "tmp", max_files=max_files,
                             declared=request.content_length)
    if not is_api_path(request.path) and request.headers.get("X-CSRF-Token") is None:
        try:
            check_csrf_token(received.get("csrf_token") or None)
        except BaseException:
            received.discard()
            raise
    return received


async def file_response(actor: User, token: str, kind: str = "original") -> Response:
    """The file (`original`), its thumbnail (`preview`) or large version (`large`), if the actor may
    read it now (app/files/service.py readable: 404 otherwise), by app/storage/serve.py."""
    attachment = await service.readable(actor, token)
    blob, storage = attachment.blob, runtime().storage
    if kind == "original":
        return await serve.respond(storage, blob.key, name=attachment.name, content_type=blob.type, size=blob.size,
                                   inline=True, etag=blob.key)
    key = {"preview": blob.thumb_key if blob.preview == READY else None, "large": blob.large_key}[kind]
    size = await storage.size(key) if key else None
    if size is None:
        abort(404, description="This file has no such version (yet).")
    return await serve.respond(storage, key, name=f"{kind}.webp", content_type="image/webp", size=size, inline=True,
                               etag=key)
