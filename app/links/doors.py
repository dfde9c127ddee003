"""What the link preview doors share (the pages' app/links/routes.py, the API's
app/api/rest_links.py): a preview's image, answered once its reader is known."""
from __future__ import annotations

from quart import Response

from app.links import service
from app.models import User
from app.models.files import READY
from app.runtime import runtime
from app.storage import serve


async def image_response(actor: User, message_id: int) -> Response:
    """The preview's image as Huddle keeps it (its thumbnail once made, else the copy itself: a
    PNG, JPEG, GIF or WebP), to whoever may read the message now (404 otherwise)."""
    blob = await service.image(actor, message_id)
    storage = runtime().storage
    if blob.preview == READY and blob.thumb_key and (size := await storage.size(blob.thumb_key)) is not None:
        return await serve.respond(storage, blob.thumb_key, name="preview.webp", content_type="image/webp", size=size,
                                   inline=True, etag=blob.thumb_key)
    return await serve.respond(storage, blob.key, name="preview", content_type=blob.type, size=blob.size, inline=True,
                               etag=blob.key)
