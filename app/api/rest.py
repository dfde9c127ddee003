"""REST under /api/v1: JSON in, `{"data": ...}` out, bearer tokens, the same rules as the pages.

Each view reads its input, calls app/api/operations.py (itself a thin step over the services)
and wraps the answer. Errors are JSON too (app/api/errors.py)."""
from __future__ import annotations

from pydantic import ValidationError
from quart import Blueprint, abort, request
from quart_schema import (
    RequestSchemaValidationError,
    document_request,
    document_response,
    operation_id,
    security_scheme_blueprint,
    tag_blueprint,
    validate_querystring,
    validate_request,
    validate_response,
)

from app.accounts import service as accounts
from app.api import auth, errors, operations, schemas, tokens
from app.api.push import bp as push_bp
from app.api.schemas import Envelope, ErrorBody

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(auth.load_token)
bp.before_request(auth.json_body_required(lambda: errors.v1_error(415)))
bp.before_request(auth.readable_body(lambda: errors.v1_error(400, errors.UNREADABLE)))
errors.init_blueprint(bp, errors.v1_error)
tag_blueprint(bp, ["api"])
security_scheme_blueprint(bp, [{"bearer": []}])

signed_in = auth.token_required(lambda: errors.v1_error(401))


def public(view):
    """No token needed (the OpenAPI document says so)."""
    view.public = True
    return view


def documented(*codes: int):
    """Document the error answers a view can give (all of them `{"error": ...}`)."""
    def decorator(view):
        for code in ((*codes,) if getattr(view, "public", False) else (401, *codes)):
            view = document_response(ErrorBody, code)(view)
        return view
    return decorator


async def optional_body(model):
    """For endpoints whose body may be left out: nothing is `{}`; anything else is JSON."""
    if not await request.get_data():
        return model()
    if request.mimetype != "application/json":
        abort(415)
    raw = await request.get_json()
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise RequestSchemaValidationError(error) from None


def user_agent() -> str:
    return request.headers.get("User-Agent", "")


# --- accounts -----------------------------------------------------------------------------------

@bp.post("/users")
@operation_id("register")
@validate_request(schemas.NewUser)
@validate_response(Envelope[schemas.NewAccount], 201)
@documented(400, 403, 413, 415, 422, 429)
@public
async def create_user(data: schemas.NewUser):
    """Register: a new account, logged in (its token).

    The same rules as the registration page: who may join (HUDDLE_REGISTRATION: with an
    `invitation` token by default, 403 without one), a free username and address, a good
    password, and at most HUDDLE_REGISTRATIONS_PER_ADDRESS_PER_HOUR sign-up attempts (made or
    refused) from one network. That an email address is already registered is said only when
    the rest of the request is valid."""
    user, token = await operations.register(data.username, data.email, data.password, invitation=data.invitation,
                                            user_agent=user_agent(), display_name=data.display_name)
    return {"data": {"user": await operations.me(user), **token}}, 201


@bp.post("/login")
@operation_id("login")
@validate_request(schemas.Credentials)
@validate_response(Envelope[schemas.Token])
@documented(400, 413, 415, 422, 429)
@public
async def login(data: schemas.Credentials):
    """Log in: a new token, named "API token" on /account/sessions (where it can be revoked).

    Failed attempts are limited per account and address, as on the login page (429 + Retry-After)."""
    _, token = await operations.login(data.username, data.password, user_agent=user_agent())
    return {"data": token}


@bp.post("/logout")
@operation_id("logout")
@signed_in
@validate_response(Envelope[schemas.Done])
@documented()
async def logout():
    """Revoke the token this request used; its open sockets are told and closed."""
    await accounts.end_session(auth.current_session(), "revoked")
    return {"data": {"success": True}}


@bp.get("/me")
@operation_id("getMe")
@signed_in
@validate_response(Envelope[schemas.Me])
@documented()
async def me():
    """Who this token belongs to (with the email address, which only its owner sees)."""
    return {"data": await operations.me(auth.current())}


@bp.patch("/me")
@operation_id("changeMe")
@signed_in
@validate_request(schemas.MeChanges)
@validate_response(Envelope[schemas.Me])
@documented(400, 413, 415, 422)
async def change_me(data: schemas.MeChanges):
    """Set your display name (what people see; "" shows your username): the rules of the account
    page, and every open page and program hears it (`user.changed`)."""
    return {"data": await operations.set_display_name(auth.current(), data.display_name)}


@bp.get("/users/<username>")
@operation_id("getUser")
@signed_in
@validate_response(Envelope[schemas.PublicUser])
@documented(404)
async def user(username: str):
    """A member's public profile: username, online, last online, created (never the email)."""
    return {"data": await operations.details(username=username)}


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
@validate_response(Envelope[schemas.MessagePage])
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
@validate_response(Envelope[schemas.Message], 201)
@documented(404, 400, 413, 415, 422, 429)
async def send(conversation_id: int, data: schemas.NewMessage):
    """Post a message (members only). The same `client_id` again returns the first message.

    `@username` mentions that person (if they may read the conversation), `@everyone` every
    member: refused where the room turned it off, and in a room of more than 30 members unless
    `confirm_everyone` is true (422 naming `confirm_everyone`). `mentions` lists who was mentioned."""
    return {"data": await operations.send(auth.current(), conversation_id, data.text, data.client_id,
                                          confirm_everyone=data.confirm_everyone)}, 201


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
@validate_response(Envelope[schemas.Message])
@documented(403, 404, 400, 413, 415, 422)
async def edit(message_id: int, data: schemas.MessageText):
    """Edit my message (only its author may). Its mentions follow the new text (see sendMessage)."""
    return {"data": await operations.edit(auth.current(), message_id, data.text,
                                          confirm_everyone=data.confirm_everyone)}


@bp.delete("/messages/<int:message_id>")
@operation_id("deleteMessage")
@signed_in
@validate_response(Envelope[schemas.Message])
@documented(403, 404)
async def delete(message_id: int):
    """Delete a message: its author, or an administrator. It keeps its number as a tombstone."""
    return {"data": await operations.delete(auth.current(), message_id)}


# --- mentions ------------------------------------------------------------------------------------

@bp.get("/mentions")
@operation_id("listMentions")
@signed_in
@validate_querystring(schemas.MentionsQuery)
@validate_response(Envelope[schemas.MentionPage])
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
@validate_response(Envelope[schemas.SearchPage])
@documented(404, 422)
async def search(query_args: schemas.SearchQuery):
    """Search the messages I may read, newest first (or `order=relevant`), a page at a time.

    The syntax of the search page: words (the last one also as a prefix), "exact phrase", -word,
    from:name, in:#room, in:@name, before:/after:YYYY-MM-DD, has:link; anything else is searched
    as words. Page back with `before=<older>`. A conversation_id I may not read is 404."""
    return {"data": await operations.search(auth.current(), query_args.q, conversation_id=query_args.conversation_id,
                                            order=query_args.order, before=query_args.before,
                                            limit=query_args.limit)}


# --- push: /api/v1/push/... (app/api/push.py), nested so it shares the tokens, errors and document

bp.register_blueprint(push_bp)

__all__ = ["bp", "tokens"]
