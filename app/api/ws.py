"""The JSON websocket, /api/v1/ws: `{"action", "data"}` frames both ways.

A program opens it without a cookie, then authenticates with `new`, `login` or `auth` (within
AUTH_SECONDS, or it is closed with 1008). From then on it may act (`me`, `display_name`, `details`,
`conversations`, `send`, `edit`, `delete`, `react`, `unreact`, `unpreview`, `typing`, `read`, `history`, `search`,
`subscribe`, `logout`) and hears the user's events: `message.created`, `message.edited`, `message.deleted`,
`reaction.added` and `reaction.removed` (`message_id`, `conversation_id`, `emoji`, `user_id`, `seq`), `typing`,
`presence`, `unread`, `membership`, `user.changed` (someone's name), `mention` (a message mentions
you: `conversation_id`, `message_id`, `seq`, `unread`), and `logout` (then the socket closes). The
`mentions` action pages through what mentioned you, as GET /api/v1/mentions. Each answer is `{"action", "data"}` or
`{"action", "error"}` (with `fields` when the error is about some of them).

`subscribe` with the last event number seen per conversation replays what changed since, in
order, then carries on live without duplicates or gaps: the same numbers the pages use.

`notifications` reads (or, with `level`, sets) what the user is notified of in a conversation, as
GET (PUT) /api/v1/conversations/<id>/notifications; a choice made anywhere is heard as
`notifications.changed` (`conversation_id`, `level`, `default`).

Threads: `open_thread` (`message_id`) gives a message's thread, a conversation like any other
(`send`, `history`, `read`, `subscribe` with its id); `threads` lists those I follow, unread first;
`follow_thread` (`conversation_id`, `follow`) follows or stops."""
from __future__ import annotations

import json
import logging

from quart import Blueprint, websocket

from app.api import operations, tokens
from app.api.frames import answer, refusal, text_of
from app.api.program_socket import ProgramDialect, resolve_token, serve
from app.api.ws_chat import ChatActions
from app.domain import DomainError, Invalid, RateLimited, quotable
from app.realtime.broker import Event
from app.realtime.connection import Connection
from app.realtime.cursor import TooFarBehind
from app.web.urls import MAX_ID, MAX_SEQ

log = logging.getLogger("huddle.api")
bp = Blueprint("api_ws", __name__)

OPEN_ACTIONS = {"new", "login", "auth"}
PAGE_ONLY = {"reload", "people"}  # events that only tell pages to fetch again
SUBSCRIBE_LIMIT = 200  # conversations in one subscribe


class JsonDialect(ChatActions, ProgramDialect):
    """The JSON websocket's frames: `{"action", "data"}` both ways. Here: reading frames, signing
    in and out, following conversations and what the broker delivers; the actions in conversations
    (messages, reactions, previews, threads, reading, searching) are ChatActions' (ws_chat.py)."""

    # --- frames from the program --------------------------------------------------------------

    async def frame(self, conn: Connection, raw) -> None:
        try:
            message = json.loads(raw)
        except (ValueError, TypeError, RecursionError):
            return await conn.send(refusal(None, "Send JSON: {\"action\": ..., \"data\": {...}}."))
        if not isinstance(message, dict) or not isinstance(message.get("action"), str):
            return await conn.send(refusal(None, "Each frame is {\"action\": ..., \"data\": {...}}."))
        action = quotable(message["action"][:40])  # said back in the answer: never a lone surrogate
        data = message.get("data") or {}
        if not isinstance(data, dict):
            return await conn.send(refusal(action, "data must be an object."))
        handler = getattr(self, f"do_{action}", None) if action.isidentifier() else None
        if handler is None:
            return await conn.send(refusal(action, f"Unknown action {action!r}."))
        if conn.session is None and action not in OPEN_ACTIONS:
            return await conn.send(refusal(action, "Authenticate first: new, login or auth."))
        if conn.session is not None and action in OPEN_ACTIONS:
            return await conn.send(refusal(action, "This socket is already authenticated."))
        try:
            result = await handler(conn, data)
        except RateLimited as refused:
            return await conn.send(refusal(action, refused.message, retry_after=refused.retry_after))
        except DomainError as refused:
            return await conn.send(refusal(action, refused.message, getattr(refused, "errors", None)))
        except Exception:  # noqa: BLE001 - one bad action must not end the socket
            log.exception("JSON websocket action %s failed", action)
            return await conn.send(refusal(action, "An unexpected error happened on our side."))
        if result is not None:
            await conn.send(answer(action, result))

    async def _signed_in(self, conn: Connection, session, token: str, wanted: dict[int, int]) -> dict:
        """Authenticated: it hears the user's events from now on. With `conversations` (as in
        subscribe), it follows those from the numbers given in the same step, so nothing arrives
        between signing in and catching up (the way to reconnect)."""
        await conn.authenticate(session, token)
        me = await operations.me(session.user)
        if wanted:
            return {"user": me, "conversations": await _follow(conn, wanted)}
        return {"user": me}

    async def do_new(self, conn: Connection, data: dict) -> dict:
        wanted = _cursors(data) if data.get("conversations") is not None else {}
        user, token = await operations.register(text_of(data, "username", limit=200),
                                                text_of(data, "email", limit=320),
                                                text_of(data, "password", limit=2048),
                                                invitation=text_of(data, "invitation", required=False, limit=200),
                                                user_agent=_agent(),
                                                display_name=text_of(data, "display_name", required=False,
                                                                     limit=200) or "")
        session = await tokens.resolve(token["token"])
        return {**token, **await self._signed_in(conn, session, token["token"], wanted)}

    async def do_login(self, conn: Connection, data: dict) -> dict:
        wanted = _cursors(data) if data.get("conversations") is not None else {}
        _, token = await operations.login(text_of(data, "username", limit=200), text_of(data, "password", limit=2048),
                                          user_agent=_agent())
        session = await tokens.resolve(token["token"])
        return {**token, **await self._signed_in(conn, session, token["token"], wanted)}

    async def do_auth(self, conn: Connection, data: dict) -> dict:
        wanted = _cursors(data) if data.get("conversations") is not None else {}
        token = data.get("token")
        session = await resolve_token(token)
        if session is None:
            raise Invalid({"token": "That token is not valid (revoked, expired or not an API token)."})
        return await self._signed_in(conn, session, token, wanted)

    async def do_logout(self, conn: Connection, data: dict) -> None:
        token = text_of(data, "token", required=False, limit=4096) or conn.token
        mine = await tokens.resolve(token)
        if mine is None or mine.user_id != conn.user.id:
            raise Invalid({"token": "That is not one of your tokens (or it has already ended)."})
        # Answered before the revocation, whose logout event may close this very socket.
        await conn.send(answer("logout", {"success": True}))
        await tokens.revoke(conn.user, token)

    async def do_me(self, conn: Connection, data: dict) -> dict:
        return await operations.me(conn.user)

    async def do_display_name(self, conn: Connection, data: dict) -> dict:
        """`{"display_name": "Ada Lovelace"}` ("" shows the username): the answer is `me`."""
        return await operations.set_display_name(conn.user, text_of(data, "display_name", limit=200))

    async def do_subscribe(self, conn: Connection, data: dict) -> dict:
        """`{"conversations": {"<id>": <last seq seen>, ...}}`: what changed since in each, in
        order, then the answer; from then on live, without duplicates or gaps."""
        return {"conversations": await _follow(conn, _cursors(data))}

    # --- what the broker delivers -----------------------------------------------------------

    def render(self, conn: Connection, event: Event) -> str | None:
        if conn.session is None or not event.frame or event.kind in PAGE_ONLY:
            return None
        if event.kind == "typing" and event.data.get("user_id") == conn.session.user_id:
            return None  # the typist knows
        return event.frame

    async def too_far_behind(self, conn: Connection, behind: TooFarBehind) -> bool:
        """A gap too long to replay live: the program fetches history over REST, from last_seq."""
        await conn.send(answer("resync", {"conversation_id": _conversation(behind.topic), "last_seq": behind.last}))
        return False


def _cursors(data: dict) -> dict[int, int]:
    wanted = data.get("conversations")
    if not isinstance(wanted, dict) or len(wanted) > SUBSCRIBE_LIMIT:
        raise Invalid({"conversations": f"Give an object of up to {SUBSCRIBE_LIMIT} conversation ids and "
                                        "the last event number seen in each."})
    cursors = {}
    for key, seq in wanted.items():
        if (not (isinstance(key, str) and key.isascii() and key.isdigit() and len(key) <= 10 and 0 < int(key) <= MAX_ID)
                or not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_SEQ):
            raise Invalid({"conversations": "Each entry is \"<conversation id>\": <event number, 0 or more>."})
        cursors[int(key)] = seq
    return cursors


async def _follow(conn: Connection, cursors: dict[int, int]) -> dict:
    done = {}
    for conversation_id, after in cursors.items():
        try:
            last = await conn.follow(conn.dialect.rooms.topic(conversation_id), after)
        except TooFarBehind as behind:
            done[str(conversation_id)] = {"resync": True, "last_seq": behind.last}
            continue
        if last is None:
            done[str(conversation_id)] = {"error": "There is no such conversation, or you are not in it."}
        else:
            done[str(conversation_id)] = {"last_seq": last}
    return done


def _conversation(topic: str) -> int | None:
    from app.chat.live import conversation_of

    return conversation_of(topic)


def _agent() -> str:
    return websocket.headers.get("User-Agent", "")


@bp.websocket("/api/v1/ws")
async def ws() -> None:
    await serve(JsonDialect())
