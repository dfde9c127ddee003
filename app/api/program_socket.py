"""What the two program websockets share (the JSON websocket, /api/v1/ws, and the messenger
adapter's, /api/messenger/websocket): a cookie-less socket that a token authenticates after it
opens, then hears the user's events from the broker like a page does.

One task reads frames (bounded, rate limited, a deadline to authenticate); one task sends what
the broker delivers, already serialized once per event (Event.frame). A protocol object turns
frames into actions and events into frames: it is all that differs between the two sockets."""
from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from quart import abort, websocket

from app.accounts.auth import client_block
from app.api import tokens
from app.chat import events as chat_events
from app.chat import service as chat
from app.models import UserSession
from app.realtime import events
from app.realtime.broker import Event, Overflow, Subscription
from app.realtime.limits import REPLACED
from app.runtime import runtime
from app.web.security import same_origin
from app.web.websockets import direct_sender

log = logging.getLogger("huddle.api")

AUTH_SECONDS = 10          # an unauthenticated socket is closed after this long
MAX_FRAME = 16 * 1024      # a frame larger than this is refused (1009); Hypercorn caps it at 64 KiB
FRAME_BURST = 40           # frames in a burst, refilled at FRAMES_PER_SECOND; past it: 1008
FRAMES_PER_SECOND = 10
RECHECK_SECONDS = 60       # the token's session is re-checked this often (expiry)
TYPING_EVERY = 1.0         # "typing" at most once a second per socket and conversation
CLOSE_ANSWER_SECONDS = 5

POLICY = 1008
TOO_BIG = 1009
# Sockets one address (an IPv6 /64) may hold open before authenticating, per worker: enough for
# a household of clients starting at once, not for someone holding thousands open.
PENDING_PER_ADDRESS = 20
_pending: dict[str, int] = {}


class Protocol_(Protocol):
    async def opened(self, conn: Connection) -> None: ...
    async def frame(self, conn: Connection, raw: str | bytes) -> None: ...
    def push(self, conn: Connection, event: Event) -> str | None: ...
    async def replay(self, conn: Connection, event: Event) -> None: ...


class Connection:
    """One program socket: who it is (once authenticated) and what it listens to."""

    def __init__(self, subscription: Subscription, on_authenticated=lambda: None) -> None:
        self.subscription = subscription
        self.on_authenticated = on_authenticated
        self.session: UserSession | None = None
        self.token: str | None = None
        self.online = False
        self.typing: dict[int, float] = {}
        self.authenticated = asyncio.Event()

    @property
    def user(self):
        return self.session.user if self.session else None

    async def send(self, text: str) -> None:
        """Answers to the program's own frames go straight out; pushes come through the queue."""
        await websocket.send(text)

    def close(self, code: int) -> None:
        self.subscription.deliver(events.closing(code))

    async def authenticate(self, session: UserSession, token: str) -> None:
        """From now on this socket is session's: it hears the user's events and counts as online."""
        self.session, self.token = session, token
        user_id = session.user_id
        topics = [f"session:{session.id}", f"user:{user_id}", "presence"]
        topics += [chat_events.topic(cid) for cid in await chat.conversation_ids(user_id)]
        await self.subscription.add(*topics)
        for old in runtime().socket_limits.admit(session.id, user_id, self.subscription):
            old.deliver(events.closing(REPLACED))
        self.on_authenticated()
        self.online = True
        if await runtime().presence.connect(user_id):
            await events.presence_changed(user_id, True)
        self.authenticated.set()

    async def typing_hint(self, conversation_id, state: str) -> bool:
        """Announce typing in a conversation of mine, at most once a second; False if refused."""
        if not isinstance(conversation_id, int) or isinstance(conversation_id, bool) or state not in {"start", "stop"}:
            return False
        if chat_events.topic(conversation_id) not in self.subscription.topics:
            return False  # not a member: nobody hears of it
        now = asyncio.get_running_loop().time()
        if state == "start":
            if now - self.typing.get(conversation_id, -TYPING_EVERY) < TYPING_EVERY:
                return True
            self.typing[conversation_id] = now
        elif self.typing.pop(conversation_id, None) is None:
            return True
        user = self.user
        await chat_events.publish(await chat_events.typing(conversation_id, user.id, user.username, state))
        return True

    async def membership_changed(self, conversation_id: int) -> None:
        topic = chat_events.topic(conversation_id)
        if await chat.membership_by_id(self.session.user_id, conversation_id):
            await self.subscription.add(topic)
        else:
            await self.subscription.remove(topic)


async def resolve_token(token) -> UserSession | None:
    return await tokens.resolve(token if isinstance(token, str) else None)


async def serve(protocol: Protocol_) -> None:
    """Accept a program socket (Origin, if sent, must be ours), then run it until it ends."""
    origin = websocket.headers.get("Origin")
    if origin is not None and not same_origin(origin):
        abort(403)  # a page of another site may not drive a socket here (and no cookie counts anyway)
    block = client_block()
    if _pending.get(block, 0) >= PENDING_PER_ADDRESS:
        abort(429)  # refused before the handshake: too many unauthenticated sockets from here
    _pending[block] = _pending.get(block, 0) + 1
    pending = True

    def authenticated() -> None:
        nonlocal pending
        if pending:
            pending = False
            if (left := _pending.pop(block, 1) - 1) > 0:
                _pending[block] = left

    try:
        async with runtime().broker.subscribe([]) as subscription:
            await websocket.accept()
            conn = Connection(subscription, on_authenticated=authenticated)
            receiver = asyncio.create_task(_receive(protocol, conn))
            try:
                await protocol.opened(conn)
                await _stream(protocol, conn)
                await asyncio.wait({receiver}, timeout=CLOSE_ANSWER_SECONDS)
            finally:
                runtime().socket_limits.release(subscription)
                receiver.cancel()
                await asyncio.shield(_goodbye(conn))
    finally:
        authenticated()  # no longer pending either way


async def _goodbye(conn: Connection) -> None:
    if conn.online:
        user = conn.user
        for conversation_id in conn.typing:
            await chat_events.publish(await chat_events.typing(conversation_id, user.id, user.username, "stop"))
        await runtime().presence.disconnect(user.id)


async def _stream(protocol: Protocol_, conn: Connection) -> None:
    """The only sender of pushed events: in the order the broker gave them."""
    send = direct_sender(websocket)
    while True:
        try:
            event = await conn.subscription.get()
        except Overflow:
            log.warning("dropping a program socket that fell behind")
            await websocket.close(1013)
            return
        if event.kind == "replay":
            await protocol.replay(conn, event)
            continue
        if event.kind == "membership" and conn.session is not None:
            await conn.membership_changed(event.data["conversation_id"])
        frame = protocol.push(conn, event)
        if frame:
            await send(frame)
        if event.close is not None:
            await websocket.close(event.close)
            return


async def _receive(protocol: Protocol_, conn: Connection) -> None:
    """Read frames: bounded, rate limited; the first AUTH_SECONDS decide whether it stays."""
    loop = asyncio.get_running_loop()
    allowance, last = float(FRAME_BURST), loop.time()
    opened = checked = loop.time()
    while True:
        timeout = RECHECK_SECONDS if conn.session else max(0.0, opened + AUTH_SECONDS - loop.time())
        try:
            raw = await asyncio.wait_for(websocket.receive(), timeout=timeout)
        except TimeoutError:
            raw = None
        now = loop.time()
        if conn.session is None and now - opened >= AUTH_SECONDS:
            log.info("closing a program socket that did not authenticate in %s s", AUTH_SECONDS)
            conn.close(POLICY)
            return await _drain()
        if raw is not None:
            allowance = min(FRAME_BURST, allowance + (now - last) * FRAMES_PER_SECOND) - 1
            last = now
            if allowance < 0:
                log.warning("closing a program socket that floods")
                conn.close(POLICY)
                return await _drain()
            if len(raw) > MAX_FRAME:
                conn.close(TOO_BIG)
                return await _drain()
            await protocol.frame(conn, raw)
        if conn.session is not None and now - checked >= RECHECK_SECONDS:
            checked = now
            if await resolve_token(conn.token) is None:
                conn.subscription.deliver(await events.logout(f"session:{conn.session.id}", "expired"))
                return await _drain()


async def _drain() -> None:
    while True:
        await websocket.receive()
