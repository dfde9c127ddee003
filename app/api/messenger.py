"""The messenger API, as its document describes it, under /api/messenger: a client written for
that Go messenger works unchanged against Huddle. Every answer is `{"Message", "Data"}`.

It is a thin adapter: each endpoint calls app/api/operations.py (the same rules, tokens and broker
as /api/v1 and the pages), so its messages appear live in the pages and the other way round.
Its conversations are direct conversations (a `Recipient`), as that messenger has no rooms. What
its websocket says is app/api/messenger_socket.py's."""
from __future__ import annotations

import json
import secrets

from quart import Blueprint, Response, abort, request

from app.accounts import service as accounts
from app.api import auth, errors, operations, tokens
from app.api.frames import ids_of
from app.api.messenger_socket import MessengerDialect
from app.api.program_socket import serve
from app.chat import service as chat
from app.domain import Invalid, NotFound
from app.models import Message
from app.web.urls import MAX_ID

bp = Blueprint("messenger", __name__, url_prefix="/api/messenger")
errors.init_blueprint(bp, errors.messenger_error)
# The address the account gets when the client sends none (that messenger has no email): a
# reserved domain that never receives mail; the owner can set a real one on their profile.
NO_EMAIL_DOMAIN = "no-email.invalid"


def reply(message: str, data=None, status: int = 200) -> Response:
    body = json.dumps({"Message": message, "Data": data}, ensure_ascii=False)
    return Response(body, status=status, content_type="application/json")


async def load_token() -> None:
    """That messenger sends `Authorization: Bearer <jwt>`; a bare `<jwt>` is taken too."""
    header = (request.headers.get("Authorization") or "").strip()
    token = tokens.bearer(header) if " " in header else header
    from quart import g

    g.api_session = await tokens.resolve(token or None)


bp.before_request(load_token)
bp.before_request(auth.readable_body(lambda: errors.messenger_error(400, errors.UNREADABLE)))
signed_in = auth.token_required(lambda: errors.messenger_error(401, "Unauthorized: send your JWT."))


async def body() -> dict:
    if request.mimetype != "application/json":
        abort(415)
    data = await request.get_json()
    if not isinstance(data, dict):
        raise Invalid({"body": "Send a JSON object."})
    return data


def text(data: dict, name: str, limit: int = 8192) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Invalid({name: f"{name} is required."})
    if len(value) > limit:
        raise Invalid({name: f"{name} is too long."})
    return value


def number(data: dict, name: str) -> int:
    value = data.get(name)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
        raise Invalid({name: f"{name} must be a positive number."})
    return value


def agent() -> str:
    return request.headers.get("User-Agent", "")


# --- users ----------------------------------------------------------------------------------------

@bp.post("/user")
async def create_user() -> Response:
    data = await body()
    email = data.get("Email") if isinstance(data.get("Email"), str) else f"{secrets.token_hex(8)}@{NO_EMAIL_DOMAIN}"
    invitation = data.get("Invitation") if isinstance(data.get("Invitation"), str) else None
    _, token = await operations.register(text(data, "Username", 200), email, text(data, "Password", 2048),
                                         invitation=invitation, user_agent=agent())
    return reply("User Created", token["token"], 201)


@bp.get("/user/<username>")
@signed_in
async def get_user(username: str) -> Response:
    person = await operations.details(username=username)
    return reply("User Found", {"Username": person["username"], "LoggedOn": person["online"],
                                "LastOnline": person["last_online"], "Created": person["created"]})


@bp.post("/user/login")
async def login() -> Response:
    data = await body()
    _, token = await operations.login(text(data, "Username", 200), text(data, "Password", 2048), user_agent=agent())
    return reply("Logged In", token["token"])


@bp.post("/user/logout")
@signed_in
async def logout() -> Response:
    await accounts.end_session(auth.current_session(), "revoked")
    return reply("Logged Out")


# --- conversations ----------------------------------------------------------------------------------

def conversation_shape(found: dict) -> dict:
    return {"ConversationId": found["id"], "Users": found["members"] or [], "Unread": found["unread"]}


@bp.post("/conversation")
@signed_in
async def start_conversation() -> Response:
    data = await body()
    found, created = await operations.start_conversation(auth.current(), [text(data, "Recipient", 200)], None)
    return reply("Conversation Created" if created else "Conversation Found", conversation_shape(found),
                 201 if created else 200)


@bp.get("/conversation")
@signed_in
async def conversations() -> Response:
    mine = [c for c in await operations.conversation_list(auth.current()) if c["kind"] == "direct"]
    return reply("Conversations Found", [conversation_shape(c) for c in mine])


# --- messages ---------------------------------------------------------------------------------------

def message_shape(message: dict) -> dict:
    return {"MessageId": message["id"], "ConversationId": message["conversation_id"], "User": message["author"],
            "Message": message["text"], "Created": message["created_at"], "Edited": message["edited_at"],
            "Reactions": [{"Emoji": r["emoji"], "Count": r["count"], "Users": r["usernames"]}
                          for r in message["reactions"]]}


@bp.post("/message")
@signed_in
async def send() -> Response:
    data = await body()
    files = ids_of(data, "Attachments")  # ids of uploads (POST /api/v1/uploads): then Message may be ""
    message = data.get("Message", "") if files and isinstance(data.get("Message", ""), str) else text(data, "Message")
    sent = await operations.send(auth.current(), number(data, "ConversationId"), message, attachments=files,
                                 reply_to=data.get("ReplyTo"))  # the service checks it (a 422 names reply_to)
    return reply("Message Sent", {"MessageId": sent["id"]}, 201)


@bp.put("/message")
@signed_in
async def edit() -> Response:
    data = await body()
    edited = await operations.edit(auth.current(), number(data, "MessageId"), text(data, "Message"))
    return reply("Message Updated", {"MessageId": edited["id"]})


@bp.delete("/message/<int:message_id>")
@signed_in
async def delete(message_id: int) -> Response:
    await operations.delete(auth.current(), message_id)
    return reply("Message Deleted")


@bp.put("/message/<int:message_id>/reaction/<path:emoji>")
@signed_in
async def react(message_id: int, emoji: str) -> Response:
    """Put my reaction on a message (the emoji URL-encoded in the path, as in /api/v1)."""
    return reply("Reaction Added", message_shape(await operations.react(auth.current(), message_id, emoji)))


@bp.delete("/message/<int:message_id>/reaction/<path:emoji>")
@signed_in
async def unreact(message_id: int, emoji: str) -> Response:
    """Take my reaction back (not there: nothing changes)."""
    message = await operations.react(auth.current(), message_id, emoji, add=False)
    return reply("Reaction Removed", message_shape(message))


@bp.get("/message/<int:conversation_id>")
@signed_in
async def messages(conversation_id: int) -> Response:
    """The conversation's messages, oldest first (the newest 100)."""
    page = await operations.messages(auth.current(), conversation_id, limit=100)
    return reply("Messages Found", [message_shape(m) for m in reversed(page["messages"])])


@bp.websocket("/websocket")
async def websocket_route() -> None:
    """The messenger's websocket; what it says is its dialect's (app/api/messenger_socket.py)."""
    await serve(MessengerDialect())


__all__ = ["bp", "Message", "NotFound", "chat"]
