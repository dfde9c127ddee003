"""The messenger API's websocket (/api/messenger/websocket, routed in app/api/messenger.py) as a
dialect of the one live connection: it opens with "Websocket Open", the first frame is the JWT,
then typing objects go both ways and every change to a conversation the client is in arrives as
`{"Message": kind, "Data": ...}`, each frame serialized once whoever receives it."""
from __future__ import annotations

import functools
import json

from app.api.program_socket import ProgramDialect, resolve_token
from app.realtime.broker import Event
from app.realtime.connection import Connection


@functools.lru_cache(maxsize=4096)
def typing_frame(username: str, conversation_id: int) -> str:
    """One serialization per typist and conversation, whoever receives it."""
    return json.dumps({"User": username, "Message": "Typing", "ConvId": conversation_id}, ensure_ascii=False)


OPEN = json.dumps({"Message": "Websocket Open"})
AUTHENTICATED = json.dumps({"Message": "Websocket Authenticated"})
FAILED = json.dumps({"Message": "Websocket Authentication Failed"})
LOGGED_OUT = json.dumps({"Message": "Logged Out"})


class MessengerDialect(ProgramDialect):
    """Opens with "Websocket Open"; the first frame is the JWT; then typing objects both ways.
    Beyond that messenger's own objects (typing, logout), every change to a conversation the
    client is in reaches it as `{"Message": kind, "Data": ...}` (the JSON websocket's data)."""

    async def opened(self, conn: Connection) -> None:
        await conn.send(OPEN)

    async def frame(self, conn: Connection, raw) -> None:
        if conn.session is None:
            token = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
            token = token.strip().strip('"')
            if token.lower().startswith("bearer "):
                token = token[7:].strip()
            session = await resolve_token(token)
            if session is None:
                await conn.send(FAILED)
                conn.close(1008)
                return
            await conn.authenticate(session, token)
            await conn.send(AUTHENTICATED)
            return
        try:
            message = json.loads(raw)
        except (ValueError, TypeError, RecursionError):
            return
        if isinstance(message, dict) and message.get("Message") == "Typing":
            await conn.typing_hint(message.get("ConvId"), "start")

    def render(self, conn: Connection, event: Event) -> str | None:
        if conn.session is None:
            return None
        if event.kind == "logout":
            return LOGGED_OUT
        if event.kind == "typing":
            if event.data["state"] == "start" and event.data["user_id"] != conn.session.user_id:
                return typing_frame(event.data["user"], event.data["conversation_id"])  # to the other members
            return None
        if event.frame and (event.topic.startswith("conversation:") or event.kind == "user.changed"):
            return generic_frame(event)  # (a rename: {"Message": "user.changed", "Data": {"users": [...]}})
        return None


_generic: dict[int, tuple[Event, str]] = {}


def generic_frame(event: Event) -> str:
    """`{"Message": kind, "Data": data}`, serialized once per event whoever receives it."""
    found = _generic.get(id(event))
    if found is None or found[0] is not event:
        if len(_generic) >= 256:
            _generic.clear()
        found = _generic[id(event)] = (event, json.dumps({"Message": event.kind, "Data": event.data},
                                                         ensure_ascii=False, separators=(",", ":")))
    return found[1]
