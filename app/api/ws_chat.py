"""The JSON websocket's actions in conversations (app/api/ws.py's dialect composes them): each reads
its frame's fields (app/api/frames.py) and calls what the REST API calls (operations.py,
thread_operations.py), so both doors keep one rule."""
from __future__ import annotations

from typing import TYPE_CHECKING

from app.api import operations, thread_operations
from app.api.frames import cursor_of, id_of, ids_of, text_of
from app.domain import Invalid

if TYPE_CHECKING:
    from app.realtime.connection import Connection


class ChatActions:
    """`conversations`, `details`, `send`, `edit`, `delete`, `react`, `unreact`, `unpreview`,
    `open_thread`, `threads`, `follow_thread`, `typing`, `read`, `history`, `search`,
    `notifications` and `mentions` (ws.py's docstring says what each does)."""

    async def do_conversations(self, conn: Connection, data: dict) -> list[dict]:
        return await operations.conversation_list(conn.user)

    async def do_details(self, conn: Connection, data: dict) -> dict:
        if data.get("id") is not None:
            return await operations.details(user_id=id_of(data, "id"))
        return await operations.details(username=text_of(data, "username", limit=200))

    async def do_send(self, conn: Connection, data: dict) -> dict:
        """`text`, and/or `attachments`: ids of uploads (POST /api/v1/uploads) to send with it;
        `reply_to`: the id of the message of this conversation it answers."""
        return await operations.send(conn.user, id_of(data, "conversation_id"),
                                     text_of(data, "text", required=False) or "",
                                     text_of(data, "client_id", required=False, limit=64),
                                     confirm_everyone=data.get("confirm_everyone") is True,
                                     attachments=ids_of(data, "attachments"), reply_to=data.get("reply_to"))

    async def do_edit(self, conn: Connection, data: dict) -> dict:
        return await operations.edit(conn.user, id_of(data, "message_id"), text_of(data, "text"),
                                     confirm_everyone=data.get("confirm_everyone") is True)

    async def do_delete(self, conn: Connection, data: dict) -> dict:
        return await operations.delete(conn.user, id_of(data, "message_id"))

    async def do_react(self, conn: Connection, data: dict) -> dict:
        """`{"message_id", "emoji"}`: as PUT /api/v1/messages/<id>/reactions/<emoji>."""
        return await operations.react(conn.user, id_of(data, "message_id"), text_of(data, "emoji", limit=64))

    async def do_unreact(self, conn: Connection, data: dict) -> dict:
        return await operations.react(conn.user, id_of(data, "message_id"), text_of(data, "emoji", limit=64), add=False)

    async def do_unpreview(self, conn: Connection, data: dict) -> dict:
        """`{"message_id"}`: as DELETE /api/v1/messages/<id>/preview (its sender only)."""
        return await operations.unpreview(conn.user, id_of(data, "message_id"))

    async def do_open_thread(self, conn: Connection, data: dict) -> dict:
        """`{"message_id"}`: its thread, as POST /api/v1/messages/<id>/thread (then `send`, `history`
        and `read` with its `id` as conversation_id, `subscribe` to hear it)."""
        return await thread_operations.open_thread(conn.user, id_of(data, "message_id"))

    async def do_threads(self, conn: Connection, data: dict) -> list[dict]:
        """The threads I follow, unread first, as GET /api/v1/threads."""
        return await thread_operations.followed(conn.user)

    async def do_follow_thread(self, conn: Connection, data: dict) -> dict:
        """`{"conversation_id", "follow": true|false}`: as PUT / DELETE /api/v1/threads/<id>/follow."""
        if not isinstance(on := data.get("follow", True), bool):
            raise Invalid({"follow": "Give follow as true or false."})
        return await thread_operations.follow(conn.user, id_of(data, "conversation_id"), on)

    async def do_typing(self, conn: Connection, data: dict) -> dict:
        state = data.get("state", "start")
        if not await conn.typing_hint(data.get("conversation_id"), state):
            raise Invalid({"conversation_id": "Give one of your conversations, and state start or stop."})
        return {"conversation_id": data["conversation_id"], "state": state}

    async def do_read(self, conn: Connection, data: dict) -> dict:
        return await operations.read(conn.user, id_of(data, "conversation_id"), cursor_of(data, "seq"))

    async def do_history(self, conn: Connection, data: dict) -> dict:
        limit = data.get("limit", 50)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100:
            raise Invalid({"limit": "Give limit from 1 to 100."})
        return await operations.messages(conn.user, id_of(data, "conversation_id"), before=cursor_of(data, "before"),
                                         after=cursor_of(data, "after"), limit=limit)

    async def do_search(self, conn: Connection, data: dict) -> dict:
        """`{"q", "limit"?, "before"?, "order"?, "conversation_id"?}`: as GET /api/v1/search."""
        limit = data.get("limit", 20)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100:
            raise Invalid({"limit": "Give limit from 1 to 100."})
        order = data.get("order", "newest")
        if order not in ("newest", "relevant"):
            raise Invalid({"order": "Give order as newest or relevant."})
        scope = id_of(data, "conversation_id") if data.get("conversation_id") is not None else None
        return await operations.search(conn.user, text_of(data, "q", limit=2000), conversation_id=scope, order=order,
                                       before=text_of(data, "before", required=False, limit=200), limit=limit)

    async def do_notifications(self, conn: Connection, data: dict) -> dict:
        """`{"conversation_id", "level"?}`: what I am notified of there (`{"level", "default"}`), as
        GET /api/v1/conversations/<id>/notifications; with `level` ("all", "mentions", "nothing", or
        null for the default), chosen first, as PUT."""
        conversation_id = id_of(data, "conversation_id")
        if "level" in data:
            return await operations.set_notification_level(conn.user, conversation_id, data["level"])
        return await operations.notification_level(conn.user, conversation_id)

    async def do_mentions(self, conn: Connection, data: dict) -> dict:
        """`{"before"?, "limit"?}`: the messages that mention me, as GET /api/v1/mentions."""
        limit = data.get("limit", 50)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100:
            raise Invalid({"limit": "Give limit from 1 to 100."})
        before = data.get("before")
        if before is not None:
            before = id_of(data, "before")
        return await operations.mentions(conn.user, before=before, limit=limit)
