"""One page's view of its conversations on the live socket: what it has, what it still needs.

The database is the source of truth; the broker only wakes sockets up. A page says which
conversation it shows and the highest event number it rendered (its hello). From then on:
- what changed after that number is replayed from the database, in order (edits and
  deletions included), rendered exactly as the live push renders it;
- live events at or below what was sent are skipped (no duplicate), and a live event that
  skips numbers makes the gap be filled from the database first (no gap);
- message events that arrive before the hello are held, since the page's cursor is not known.
Events of the user's other conversations pass straight through (the sidebar counts them).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.chat import events, service
from app.models import Message
from app.realtime.broker import Event

HELD_LIMIT = 256   # message events held before the hello; past it the page reloads its state
REPLAY_LIMIT = 500  # a page further behind than this reloads instead of replaying

Send = Callable[[str], Awaitable[None]]


class TooFarBehind(Exception):
    """Replaying would be slower than reloading the page."""


class Cursor:
    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.conversation_id: int | None = None
        self.sent = 0
        self.ready = False
        self.held: list[Event] = []

    async def hello(self, conversation_id: int | None, after: int | None, send: Send) -> None:
        """The page's cursor: replay what it missed, then what was held while we waited."""
        self.ready = True
        if conversation_id is not None and after is not None and after >= 0:
            if await service.membership_by_id(self.user_id, conversation_id):
                self.conversation_id, self.sent = conversation_id, after
                await self._fill(send)
        held, self.held = self.held, []
        for event in held:
            await self.live(event, send)

    async def live(self, event: Event, send: Send) -> None:
        """A message event from the broker."""
        if not self.ready:
            if len(self.held) >= HELD_LIMIT:
                raise TooFarBehind()
            self.held.append(event)
            return
        conversation_id = event.data.get("conversation_id")
        if conversation_id != self.conversation_id or event.seq is None:
            await send(event.html)  # another conversation: the sidebar counts it
            return
        if event.seq <= self.sent:
            return  # already sent (replayed, or a late duplicate)
        if event.seq > self.sent + 1:
            await self._fill(send)  # numbers were skipped: the database has them
            if event.seq <= self.sent:
                return
        self.sent = event.seq
        await send(event.html)

    async def _fill(self, send: Send) -> None:
        after = self.sent
        changed = await service.changes_since(self.conversation_id, after, limit=REPLAY_LIMIT + 1)
        if len(changed) > REPLAY_LIMIT:
            raise TooFarBehind()
        for message in changed:
            html = await replay_html(message, after)
            if html:
                await send(html)
            self.sent = message.version_seq


async def replay_html(message: Message, after: int) -> str:
    """What a page that rendered up to `after` needs for this message's latest version."""
    new_to_page = message.seq > after
    if message.deleted_at is not None:
        # Posted and deleted while away: the page never had it, so only its cursor moves.
        return (await events.message_event(message, "message.deleted", cursor_only=new_to_page)).html
    kind = "message.created" if new_to_page else "message.edited"
    return (await events.message_event(message, kind)).html
