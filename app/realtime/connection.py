"""One live connection, whatever speaks on it: a page (/live), a program (/api/v1/ws) or a
messenger client (/api/messenger/websocket). What differs is a small Dialect: how the socket
authenticates, what a frame from the client means, and how an event is written out (its HTML
fragment, its JSON frame, the messenger's objects). Everything else is here, once:

- serving it (app/realtime/serving.py): one reader task (bounded frames, a flood bucket, a
  deadline to authenticate, the session's expiry checked on every action and re-checked from the
  database every so often) and one sender loop (what the broker delivers, in order, through the
  catch-up cursor);
- an action and the events it causes never cross: the reader handles a frame while holding the
  connection's lock, the sender takes the same lock per event, so the answer to a request is
  written before any event that request caused (a `login` answer before its `presence`);
- numbered events wait until the client has said where it is (a page's hello), then go through
  one Cursor (app/realtime/cursor.py): no gap, no duplicate, in the topic's order;
- the typing throttle and its goodbye "stop", joining and leaving topics as memberships change,
  presence in and out, how many sockets one session and one user may hold.

The features say which topics a user hears and how their numbered history is read (a Rooms
object, chat's is app/chat/live.py); this module imports no feature.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Protocol

from quart import websocket

from app import clock
from app.compat import direct_sender, direct_writer
from app.realtime import events
from app.realtime.beside import Beside
from app.realtime.broker import Event, Subscription
from app.realtime.cursor import Cursor, Source, TooFarBehind
from app.realtime.direct import Direct
from app.realtime.limits import REPLACED
from app.runtime import runtime

log = logging.getLogger("huddle.live")

TYPING_EVERY = 1.0         # "typing" at most once a second per person and conversation
HELD_LIMIT = 256           # numbered events held until the client says where it is; past it, too far behind

# Unauthenticated sockets open per address block, per worker (app/realtime/serving.py admits them).
_pending: dict[str, int] = {}


_said: set[bool] = set()


def _say_how_once(direct: bool) -> None:
    """Log once per process which way live events go out (an upgrade that moved a hook shows here)."""
    if direct not in _said:
        _said.add(direct)
        log.info("live events are written %s", "straight to the sockets" if direct
                 else "through the framework's send (no direct writer for this server)")


def release_pending(block: str) -> None:
    if (left := _pending.pop(block, 1) - 1) > 0:
        _pending[block] = left


class Rooms(Source, Protocol):
    """What a feature with numbered topics gives the connection (chat: app/chat/live.py)."""

    async def topics(self, user_id: int) -> list[str]: ...
    async def typing(self, topic: str, user, state: str) -> Event: ...
    def topic(self, conversation_id: int) -> str: ...


class Dialect(Protocol):
    rooms: Rooms
    auth_seconds: float | None  # None: authenticated before the socket was accepted (a cookie)
    frame_burst: int            # frames in a burst, refilled at frames_per_second; past it: 1008
    frames_per_second: float
    max_frame: int | None       # larger frames close the socket with 1009

    async def opened(self, conn: Connection) -> None: ...
    async def frame(self, conn: Connection, raw: str | bytes) -> None: ...
    def render(self, conn: Connection, event: Event) -> str | None: ...
    async def too_far_behind(self, conn: Connection, behind: TooFarBehind) -> bool: ...  # True: stop
    async def resolve(self, token: str): ...  # the live session a token names, or None


class Connection(Beside, Direct):
    def __init__(self, dialect: Dialect, subscription: Subscription) -> None:
        self.dialect, self.subscription = dialect, subscription
        self.session = None
        self.token: str | None = None
        self.expires_at: datetime | None = None
        self.cursor: Cursor | None = None
        self.ready = False  # numbered events flow once the client said where it is
        self.held: list[Event] = []
        self.lock = asyncio.Lock()
        self.typing: set[str] = set()  # topics where this socket announced typing, not yet stopped
        self.online = False
        self.pending_block: str | None = None  # counted among its address's unauthenticated sockets
        self.viewing_key: str | None = None  # its entry in runtime().viewing, once it said what it shows
        self.watching, self.added = {}, set()  # what it follows beside the user's own (app/realtime/beside.py)
        self.visible, self.beside, self.beside_key = False, None, None
        self._send = direct_sender(websocket)
        self.writer = direct_writer(websocket)  # None: every event takes the queue (app/realtime/direct.py)
        if self.writer is not None:
            subscription.direct = self.direct
        _say_how_once(self.writer is not None)

    @property
    def user(self):
        return self.session.user if self.session else None

    async def send(self, text: str) -> None:
        await self._send(text)

    def close(self, code: int) -> None:
        """Close after what is already queued (never published: for this socket only)."""
        self.subscription.deliver(events.closing(code))

    async def authenticate(self, session, token: str, *, ready: bool = True) -> None:
        """From now on this socket is session's: it hears the user's topics and counts as online."""
        self.session, self.token = session, token
        self._set_expiry(session)
        self._no_longer_pending()
        user_id = session.user_id
        rooms = self.dialect.rooms
        await self.subscription.add(f"session:{session.id}", f"user:{user_id}", "presence",
                                    *await rooms.topics(user_id))
        for old in runtime().socket_limits.admit(session.id, user_id, self.subscription):
            old.deliver(events.closing(REPLACED))
        self.cursor = Cursor(rooms, user_id, lambda event: self.dialect.render(self, event), self.send)
        self.online = True
        if await runtime().presence.connect(user_id):
            await events.presence_changed(user_id, True)
        if ready:
            await self.start()

    def _no_longer_pending(self) -> None:
        if self.pending_block is not None:
            block, self.pending_block = self.pending_block, None
            release_pending(block)

    async def start(self) -> None:
        """The client said where it is: what was held goes out through the cursor."""
        self.ready = True
        held, self.held = self.held, []
        for event in held:
            await self.cursor.live(event)

    async def follow(self, topic: str, after: int) -> int | None:
        return await self.cursor.follow(topic, after)

    async def typing_hint(self, conversation_id, state: str) -> bool:
        """Announce typing in a conversation of mine; False if that is not one. At most one
        "start" a second per person and conversation, whatever the order of the signals, and a
        "stop" only after a "start" this socket announced."""
        if (not isinstance(conversation_id, int) or isinstance(conversation_id, bool) or not isinstance(state, str)
                or state not in {"start", "stop"}):  # (a list or an object is no state: not hashable either)
            return False
        topic = self.dialect.rooms.topic(conversation_id)
        if topic not in self.subscription.topics:
            return False  # not a member: nobody hears of it
        key, started = (self.session.user_id, topic), runtime().typing_started
        now = clock.monotonic()
        if state == "start":
            if now - started.get(key, -TYPING_EVERY) < TYPING_EVERY:
                return True
            if len(started) > 10_000:
                started.clear()
            started[key] = now
            self.typing.add(topic)
        elif topic in self.typing:
            self.typing.discard(topic)
        else:
            return True
        await events.publish(await self.dialect.rooms.typing(topic, self.user, state))
        return True

    async def viewing(self, conversation_id, visible) -> None:
        """The page shows this conversation (or none) in a visible tab (or not): while it does,
        its person is not notified of what comes there. Only a conversation this socket follows
        counts; anything else (malformed, not theirs) counts as looking at nothing."""
        registry = runtime().viewing
        if self.viewing_key is None:
            self.viewing_key = registry.key()
        if (visible is True and isinstance(conversation_id, int) and not isinstance(conversation_id, bool)
                and self.dialect.rooms.topic(conversation_id) in self.subscription.topics):
            await registry.show(self.viewing_key, self.session.user_id, conversation_id)
        else:
            await registry.hide(self.viewing_key)
        self.visible = visible is True
        await self._show_beside()

    async def recheck(self) -> bool:
        """Is the session still alive? Re-read it (and note the user was here); False if it ended."""
        alive = await self.dialect.resolve(self.token)
        if alive is None:
            return False
        await alive.touch()
        self.session.last_seen_at = alive.last_seen_at
        self._set_expiry(alive)
        return True

    def expired(self) -> bool:
        return self.expires_at is not None and clock.now() >= self.expires_at

    def _set_expiry(self, session) -> None:
        """When the session ends unless used: known at authentication, compared on every action
        without a query (an expired token must not act on an open socket)."""
        settings = runtime().settings
        idle = session.last_seen_at + timedelta(seconds=settings.session_idle_seconds)
        hard = session.created_at + timedelta(seconds=settings.session_max_age_seconds)
        self.expires_at = min(idle, hard)

    # --- what the broker delivers, in order -----------------------------------------------------

    async def deliver(self, event: Event) -> bool:
        """One event from the queue; True when the socket is done."""
        if event.kind == "membership" and self.session is not None:
            await self._membership_changed(event.data["conversation_id"])
        if event.seq is not None and self.cursor is not None:
            if not self.ready:
                if len(self.held) >= HELD_LIMIT:
                    raise TooFarBehind(event.topic, event.seq)
                self.held.append(event)
            else:
                await self.cursor.live(event)
        elif event.seq is None and (text := self.dialect.render(self, event)):
            await self.send(text)
        if event.close is not None:
            await websocket.close(event.close)
            return True
        return False

    async def _membership_changed(self, conversation_id: int) -> None:
        """Joined or left (or added or removed): listen to the conversation, or stop at once."""
        topic = self.dialect.rooms.topic(conversation_id)
        if await self.dialect.rooms.may_follow(self.session.user_id, topic):
            await self.subscription.add(topic)
        else:
            await self.subscription.remove(topic)
            self.cursor.unfollow(topic)
        await self.recheck_watched()  # a thread of a room just left: no longer

    async def goodbye(self) -> None:
        for key in (self.viewing_key, self.beside_key):
            if key is not None:
                await runtime().viewing.hide(key)
        if not self.online:
            return
        user = self.user
        for topic in self.typing:  # gone while typing: stops typing, for everyone, at once
            await events.publish(await self.dialect.rooms.typing(topic, user, "stop"))
        await runtime().presence.disconnect(user.id)
