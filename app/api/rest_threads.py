"""REST under /api/v1 for threads (on the API's one blueprint): open a message's thread, list the
threads I follow, follow or stop. A thread is a conversation: its messages are read and posted
with GET/POST /api/v1/conversations/{thread_id}/messages, read with .../read."""
from __future__ import annotations

from quart_schema import operation_id, validate_querystring, validate_response

from app.api import auth, schemas, schemas_chat, thread_operations
from app.api.rest_base import bp, documented, signed_in
from app.api.schemas import Envelope


@bp.post("/messages/<int:message_id>/thread")
@operation_id("openThread")
@signed_in
@validate_response(Envelope[schemas.Conversation])
@documented(404, 422)
async def open_thread(message_id: int):
    """The thread of a message you may read, made on first use (one per message; nothing is
    announced until its first reply): a conversation (`kind: "thread"`, `parent_message_id`,
    `parent_id`). Whoever may read the message's conversation reads it; its members post there.
    A message in a thread has none (422)."""
    return {"data": await thread_operations.open_thread(auth.current(), message_id)}


@bp.get("/threads")
@operation_id("listThreads")
@signed_in
@validate_querystring(schemas.ThreadsQuery)
@validate_response(Envelope[list[schemas_chat.Thread]])
@documented(422)
async def followed(query_args: schemas.ThreadsQuery):
    """The threads you follow (you replied, were mentioned there, wrote the message, or chose to),
    those with unread replies first, then by latest reply; only where you may read now."""
    return {"data": await thread_operations.followed(auth.current(), query_args.limit)}


@bp.put("/threads/<int:thread_id>/follow")
@operation_id("followThread")
@signed_in
@validate_response(Envelope[schemas.Conversation])
@documented(404)
async def follow(thread_id: int):
    """Follow a thread you may read: from now, its replies count as unread for you and notify you
    (your level there: all, unless you choose). What is there now counts as read."""
    return {"data": await thread_operations.follow(auth.current(), thread_id, True)}


@bp.delete("/threads/<int:thread_id>/follow")
@operation_id("unfollowThread")
@signed_in
@validate_response(Envelope[schemas.Conversation])
@documented(404)
async def unfollow(thread_id: int):
    """Stop following a thread (your next reply there, or a mention, follows it again)."""
    return {"data": await thread_operations.follow(auth.current(), thread_id, False)}
