"""The JSON websocket, /api/v1/ws: `{"action", "data"}` frames both ways.

A program opens it without a cookie, then authenticates with `new`, `login` or `auth` (within
AUTH_SECONDS, or it is closed with 1008). From then on it may act (`me`, `details`, `conversations`, `send`,
`edit`, `delete`, `typing`, `read`, `history`, `subscribe`, `logout`) and hears the user's
events: `message.created`, `message.edited`, `message.deleted`, `typing`, `presence`, `unread`,
`membership`, and `logout` (then the socket closes). Each answer is `{"action", "data"}` or
`{"action", "error"}` (with `fields` when the error is about some of them).

`subscribe` with the last event number seen per conversation replays what changed since, in
order, then carries on live without duplicates or gaps: the same numbers the pages use."""
from __future__ import annotations

import json
import logging

from quart import Blueprint, websocket

from app.api import operations, tokens
from app.api.frames import answer, cursor_of, id_of, refusal, text_of
from app.api.program_socket import Connection, resolve_token, serve
from app.chat import events as chat_events
from app.chat import service as chat
from app.domain import DomainError, Invalid, RateLimited
from app.realtime.broker import Event
from app.web.urls import MAX_ID

log = logging.getLogger("huddle.api")
bp = Blueprint("api_ws", __name__)

OPEN_ACTIONS = {"new", "login", "auth"}
PUSHED = {"message.created", "message.edited", "message.deleted", "typing", "presence", "unread", "membership",
          "logout"}
REPLAY_LIMIT = 500  # further behind than this in one conversation: fetch history over REST instead
SUBSCRIBE_LIMIT = 200  # conversations in one subscribe


class JsonProtocol:
    """The JSON websocket's frames; the cursors of the conversations the program subscribed to."""

    def __init__(self) -> None:
        self.sent: dict[int, int] = {}  # conversation → highest event number sent to the program

    async def opened(self, conn: Connection) -> None:
        pass

    # --- frames from the program --------------------------------------------------------------

    async def frame(self, conn: Connection, raw) -> None:
        try:
            message = json.loads(raw)
        except (ValueError, TypeError, RecursionError):
            return await conn.send(refusal(None, "Send JSON: {\"action\": ..., \"data\": {...}}."))
        if not isinstance(message, dict) or not isinstance(message.get("action"), str):
            return await conn.send(refusal(None, "Each frame is {\"action\": ..., \"data\": {...}}."))
        action = message["action"][:40]
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

    async def _signed_in(self, conn: Connection, session, token: str) -> dict:
        await conn.authenticate(session, token)
        return await operations.me(session.user)

    async def do_new(self, conn: Connection, data: dict) -> dict:
        user, token = await operations.register(text_of(data, "username", limit=200),
                                                text_of(data, "email", limit=320),
                                                text_of(data, "password", limit=2048),
                                                invitation=text_of(data, "invitation", required=False, limit=200),
                                                user_agent=_agent())
        session = await tokens.resolve(token["token"])
        return {**token, "user": await self._signed_in(conn, session, token["token"])}

    async def do_login(self, conn: Connection, data: dict) -> dict:
        _, token = await operations.login(text_of(data, "username", limit=200), text_of(data, "password", limit=2048),
                                          user_agent=_agent())
        session = await tokens.resolve(token["token"])
        return {**token, "user": await self._signed_in(conn, session, token["token"])}

    async def do_auth(self, conn: Connection, data: dict) -> dict:
        token = data.get("token")
        session = await resolve_token(token)
        if session is None:
            raise Invalid({"token": "That token is not valid (revoked, expired or not an API token)."})
        return {"user": await self._signed_in(conn, session, token)}

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

    async def do_conversations(self, conn: Connection, data: dict) -> list[dict]:
        return await operations.conversation_list(conn.user)

    async def do_details(self, conn: Connection, data: dict) -> dict:
        if data.get("id") is not None:
            return await operations.details(user_id=id_of(data, "id"))
        return await operations.details(username=text_of(data, "username", limit=200))

    async def do_send(self, conn: Connection, data: dict) -> dict:
        return await operations.send(conn.user, id_of(data, "conversation_id"), text_of(data, "text"),
                                     text_of(data, "client_id", required=False, limit=64))

    async def do_edit(self, conn: Connection, data: dict) -> dict:
        return await operations.edit(conn.user, id_of(data, "message_id"), text_of(data, "text"))

    async def do_delete(self, conn: Connection, data: dict) -> dict:
        return await operations.delete(conn.user, id_of(data, "message_id"))

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

    async def do_subscribe(self, conn: Connection, data: dict) -> None:
        """`{"conversations": {"<id>": <last seq seen>, ...}}`: replayed by the sender, in order."""
        wanted = data.get("conversations")
        if not isinstance(wanted, dict) or len(wanted) > SUBSCRIBE_LIMIT:
            raise Invalid({"conversations": f"Give an object of up to {SUBSCRIBE_LIMIT} conversation ids and "
                                            "the last event number seen in each."})
        cursors = {}
        for key, seq in wanted.items():
            if not str(key).isdigit() or not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_ID:
                raise Invalid({"conversations": "Each entry is \"<conversation id>\": <event number, 0 or more>."})
            cursors[int(key)] = seq
        conn.subscription.deliver(Event("replay", "", data={"cursors": cursors}))

    # --- what the broker delivers -----------------------------------------------------------

    def push(self, conn: Connection, event: Event) -> str | None:
        if event.kind not in PUSHED or conn.session is None:
            return None
        if event.kind == "typing" and event.data.get("user_id") == conn.session.user_id:
            return None  # the typist knows
        if event.kind.startswith("message.") and event.seq is not None:
            conversation_id = event.data.get("conversation_id")
            sent = self.sent.get(conversation_id)
            if sent is not None:
                if event.seq <= sent:
                    return None  # replayed already
                if event.seq > sent + 1:
                    # A gap: the database has what is missing. The sender fills it, then this.
                    conn.subscription.deliver(Event("replay", "", data={"cursors": {conversation_id: sent},
                                                                         "then": event}))
                    return None
                self.sent[conversation_id] = event.seq
        return event.frame

    async def replay(self, conn: Connection, event: Event) -> None:
        """Catch up: for each conversation, what changed after the given number, then go live."""
        done = {}
        for conversation_id, after in event.data["cursors"].items():
            if await chat.membership_by_id(conn.user.id, conversation_id) is None:
                done[str(conversation_id)] = {"error": "There is no such conversation, or you are not in it."}
                continue
            changed = await chat.changes_since(conversation_id, after, limit=REPLAY_LIMIT + 1)
            if len(changed) > REPLAY_LIMIT:
                last = changed[-1].version_seq
                done[str(conversation_id)] = {"resync": True, "last_seq": last}
                self.sent[conversation_id] = max(self.sent.get(conversation_id, 0), last)
                continue
            sent = self.sent.get(conversation_id, after) if "then" in event.data else after
            for message in changed:
                if message.version_seq <= sent:
                    continue
                if message.deleted_at is not None and message.seq > after:
                    sent = message.version_seq  # posted and deleted while away: nothing to show
                    continue
                kind = ("message.deleted" if message.deleted_at is not None
                        else "message.created" if message.seq > after else "message.edited")
                await websocket.send((await chat_events.message_event(message, kind)).frame)
                sent = message.version_seq
            self.sent[conversation_id] = sent
            done[str(conversation_id)] = {"last_seq": sent}
        if (then := event.data.get("then")) is not None:
            frame = self.push(conn, then)
            if frame:
                await websocket.send(frame)
            return
        await websocket.send(answer("subscribe", {"conversations": done}))


def _agent() -> str:
    return websocket.headers.get("User-Agent", "")


@bp.websocket("/api/v1/ws")
async def ws() -> None:
    await serve(JsonProtocol())
