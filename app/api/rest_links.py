"""REST under /api/v1 for link previews (on the API's one blueprint): the sender removes their
message's preview, and a preview's image is read from Huddle (never from the third party)."""
from __future__ import annotations

from quart_schema import operation_id, validate_response

from app.api import auth, operations, schemas_chat
from app.api.rest_base import bp, documented, signed_in
from app.api.schemas import Envelope
from app.links.doors import image_response


@bp.delete("/messages/<int:message_id>/preview")
@operation_id("removeLinkPreview")
@signed_in
@validate_response(Envelope[schemas_chat.Message])
@documented(403, 404, 422)
async def remove_preview(message_id: int):
    """Remove my message's link preview (its sender only: 403 for other members, administrators
    too; 404 where you may not read). It is never fetched again for this message; everyone in
    the conversation hears `message.edited` (its `preview` null). Nothing to remove: nothing
    changes. The answer is the message."""
    return {"data": await operations.unpreview(auth.current(), message_id)}


@bp.get("/messages/<int:message_id>/preview/image")
@operation_id("getLinkPreviewImage")
@signed_in
@documented(404)
async def message_preview_image(message_id: int):
    """A message's link preview image (its `preview.image`): Huddle's copy, its thumbnail (a webp)
    once made; 404 where you may not read the message, or it has none."""
    return await image_response(auth.current(), message_id)
