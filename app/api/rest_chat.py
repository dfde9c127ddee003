"""REST under /api/v1 for conversations, messages, mentions and search (app/api/rest.py has the
rest): on the API's one blueprint, each view a thin step over app/api/operations.py."""
from __future__ import annotations

from quart_schema import document_request, operation_id, validate_querystring, validate_request, validate_response

from app.api import auth, operations, schemas, schemas_chat
from app.api.rest_base import bp, documented, optional_body, signed_in
from app.api.schemas import Envelope

# --- conversations ------------------------------------------------------------------------------

@bp.get("/conversations")
@operation_id("listConversations")
@signed_in
@validate_response(Envelope[list[schemas.Conversation]])
@documented()
async def conversations():
    """My conversations, each with its unread count."""
    return {"data": await operations.conversation_list(auth.current())}


@bp.post("/conversations")
@operation_id("createConversation")
@signed_in
@validate_request(schemas.NewConversation)
@validate_response(Envelope[schemas.Conversation], 201)
@validate_response(Envelope[schemas.Conversation], 200)
@documented(404, 400, 413, 415, 422)
async def start_conversation(data: schemas.NewConversation):
    """Start a conversation: `{"usernames": [...]}` or `{"room": "name"}`.

    With usernames, the direct conversation of exactly those people and you (the existing one if
    there is one: 200, else 201). With room, that room: joined if it is open, created if new."""
    found, created = await operations.start_conversation(auth.current(), data.usernames, data.room, data.topic)
    return {"data": found}, 201 if created else 200


@bp.get("/conversations/<int:conversation_id>")
@operation_id("getConversation")
@signed_in
@validate_response(Envelope[schemas.Conversation])
@documented(404)
async def conversation(conversation_id: int):
    """One of my conversations."""
    return {"data": await operations.conversation(auth.current(), conversation_id)}


@bp.patch("/conversations/<int:conversation_id>")
@operation_id("updateRoom")
@signed_in
@validate_request(schemas.RoomChanges)
@validate_response(Envelope[schemas.Conversation])
@documented(403, 404, 400, 413, 415, 422)
async def change_room(conversation_id: int, data: schemas.RoomChanges):
    """Rename a room, change its topic, open or close it, archive it: its creator or an administrator.

    What is left out stays as it is. Closing keeps the people in it; opening lists it for every
    member. #general keeps its name, stays open and is never archived (422). Everyone who has the
    room open hears `room.changed`. `everyone_allowed` turns @everyone on or off there (#general's too)."""
    return {"data": await operations.change_room(auth.current(), conversation_id, name=data.name, topic=data.topic,
                                                 is_open=data.is_open, archived=data.archived,
                                                 everyone_allowed=data.everyone_allowed)}


@bp.delete("/conversations/<int:conversation_id>")
@operation_id("deleteRoom")
@signed_in
@validate_response(Envelope[schemas.Done])
@documented(403, 404)
async def delete_room(conversation_id: int):
    """Delete a room with its messages, for everyone: its creator or an administrator (never #general).

    Its members hear `membership` with `gone: "deleted"`."""
    return {"data": await operations.delete_room(auth.current(), conversation_id)}


@bp.get("/conversations/<int:conversation_id>/messages")
@operation_id("listMessages")
@signed_in
@validate_querystring(schemas.MessagesQuery)
@validate_response(Envelope[schemas_chat.MessagePage])
@documented(404, 422)
async def messages(conversation_id: int, query_args: schemas.MessagesQuery):
    """Messages, newest first, a page at a time (limit at most 100).

    Page back with `before=<older>`; read forward with `after=<newer>`. Numbers are event
    numbers (seq), the same the pages and the websockets use."""
    page = await operations.messages(auth.current(), conversation_id, before=query_args.before,
                                     after=query_args.after, limit=query_args.limit)
    return {"data": page}


@bp.post("/conversations/<int:conversation_id>/messages")
@operation_id("sendMessage")
@signed_in
@validate_request(schemas.NewMessage)
@validate_response(Envelope[schemas_chat.Message], 201)
@documented(404, 400, 413, 415, 422, 429)
async def send(conversation_id: int, data: schemas.NewMessage):
    """Post a message (members only). The same `client_id` again returns the first message.

    `@username` mentions that person (if they may read the conversation), `@everyone` every
    member: refused where the room turned it off, and in a room of more than 30 members unless
    `confirm_everyone` is true (422 naming `confirm_everyone`). `mentions` lists who was mentioned.

    `attachments`: ids of your uploads (uploadFile) not sent yet, at most 10, shown in that order;
    `text` may then be empty (not both). Someone else's upload, or one sent already, is a 422.

    `reply_to`: the id of a message of this conversation that this one answers (not deleted, else a
    422 naming `reply_to`); its author is mentioned, and the message carries `reply_to` (a quote)."""
    return {"data": await operations.send(auth.current(), conversation_id, data.text, data.client_id,
                                          confirm_everyone=data.confirm_everyone, attachments=data.attachments,
                                          reply_to=data.reply_to)}, 201


@bp.post("/conversations/<int:conversation_id>/read")
@operation_id("markConversationRead")
@auth.body_optional
@signed_in
@document_request(schemas.ReadUpTo)
@validate_response(Envelope[schemas.ReadState])
@documented(404, 400, 413, 415, 422)
async def read(conversation_id: int):
    """Mark the conversation read (up to `seq`, default everything); every tab of mine hears it.

    The body is optional: none (or `{}`) reads everything."""
    data = await optional_body(schemas.ReadUpTo)
    return {"data": await operations.read(auth.current(), conversation_id, data.seq)}


@bp.get("/conversations/<int:conversation_id>/notifications")
@operation_id("getNotificationLevel")
@signed_in
@validate_response(Envelope[schemas.NotificationLevel])
@documented(404)
async def notification_level(conversation_id: int):
    """What I am notified of in one of my conversations: all, mentions or nothing, and whether
    that is the default (rooms: mentions, direct conversations: all)."""
    return {"data": await operations.notification_level(auth.current(), conversation_id)}


@bp.put("/conversations/<int:conversation_id>/notifications")
@operation_id("setNotificationLevel")
@signed_in
@validate_request(schemas.LevelChoice)
@validate_response(Envelope[schemas.NotificationLevel])
@documented(404, 400, 413, 415, 422)
async def set_notification_level(conversation_id: int, data: schemas.LevelChoice):
    """Choose what I am notified of in one of my conversations: `{"level": "all" | "mentions" |
    "nothing"}`, or `null` for the default. The conversation's header shows the same choice."""
    return {"data": await operations.set_notification_level(auth.current(), conversation_id, data.level)}


# --- messages -----------------------------------------------------------------------------------

@bp.patch("/messages/<int:message_id>")
@operation_id("editMessage")
@signed_in
@validate_request(schemas.MessageText)
@validate_response(Envelope[schemas_chat.Message])
@documented(403, 404, 400, 413, 415, 422)
async def edit(message_id: int, data: schemas.MessageText):
    """Edit my message (only its author may). Its mentions follow the new text (see sendMessage)."""
    return {"data": await operations.edit(auth.current(), message_id, data.text,
                                          confirm_everyone=data.confirm_everyone)}


@bp.delete("/messages/<int:message_id>")
@operation_id("deleteMessage")
@signed_in
@validate_response(Envelope[schemas_chat.Message])
@documented(403, 404)
async def delete(message_id: int):
    """Delete a message: its author, or an administrator. It keeps its number as a tombstone."""
    return {"data": await operations.delete(auth.current(), message_id)}


@bp.put("/messages/<int:message_id>/reactions/<emoji>")
@operation_id("addReaction")
@signed_in
@validate_response(Envelope[schemas_chat.Message])
@documented(404, 422, 429)
async def react(message_id: int, emoji: str):
    """React to a message with an emoji: the emoji itself in the path, URL-encoded (`%F0%9F%91%8D` is 👍).

    Members of its conversation only; not in an archived room (422); one emoji of Huddle's table,
    nothing else (422); counted as a post against the posting limit (429). Already there: nothing
    changes. Everyone in the conversation hears `reaction.added`; the answer is the message."""
    return {"data": await operations.react(auth.current(), message_id, emoji)}


@bp.delete("/messages/<int:message_id>/reactions/<emoji>")
@operation_id("removeReaction")
@signed_in
@validate_response(Envelope[schemas_chat.Message])
@documented(404, 422, 429)
async def unreact(message_id: int, emoji: str):
    """Take my reaction back (only mine: others' stay). Not there: nothing changes.

    Everyone in the conversation hears `reaction.removed`; the answer is the message."""
    return {"data": await operations.react(auth.current(), message_id, emoji, add=False)}


# --- mentions ------------------------------------------------------------------------------------

@bp.get("/mentions")
@operation_id("listMentions")
@signed_in
@validate_querystring(schemas.MentionsQuery)
@validate_response(Envelope[schemas_chat.MentionPage])
@documented(422)
async def mentions(query_args: schemas.MentionsQuery):
    """Messages that mention me, newest mention first, a page at a time (limit at most 100).

    Only in conversations I may read now. Each carries its `conversation_id`, `unread` (after my
    read position there) and `everyone` (by @everyone). Page back with `before=<older>`. The JSON
    websocket says `mention` when a new one comes."""
    return {"data": await operations.mentions(auth.current(), before=query_args.before, limit=query_args.limit)}


# --- search -------------------------------------------------------------------------------------

@bp.get("/search")
@operation_id("searchMessages")
@signed_in
@validate_querystring(schemas.SearchQuery)
@validate_response(Envelope[schemas_chat.SearchPage])
@documented(404, 422)
async def search(query_args: schemas.SearchQuery):
    """Search the messages I may read, newest first (or `order=relevant`), a page at a time.

    The syntax of the search page: words (the last one also as a prefix), "exact phrase", -word,
    from:name, in:#room, in:@name, before:/after:YYYY-MM-DD, has:link; anything else is searched
    as words. Page back with `before=<older>`. A conversation_id I may not read is 404."""
    return {"data": await operations.search(auth.current(), query_args.q, conversation_id=query_args.conversation_id,
                                            order=query_args.order, before=query_args.before,
                                            limit=query_args.limit)}
