"""Where a member was last: the conversation /chat takes them to, and the visit stamp a page's
read leaves behind (written only when it changes, or once a minute, so a reload writes nothing).
Nothing here is written by a GET: the page reads by POST (its script, or the no-script button),
so a link from another site cannot mark anything read or join anyone to anything."""
from __future__ import annotations

from datetime import datetime

from app import clock
from app.chat import service
from app.models import THREAD, Conversation, Membership, User

STAMP_EVERY_SECONDS = 60


async def landing(user: User) -> int:
    """The conversation /chat opens: the one visited last, else #general (every account joins it
    when it is made, and #general's making takes in every account that exists then)."""
    last = await Membership.filter(user_id=user.id, last_visited_at__isnull=False).exclude(
        conversation__kind=THREAD).order_by("-last_visited_at").first()  # a thread opens beside its room
    return last.conversation_id if last else (await service.general()).id


def latest(memberships: list[Membership]) -> datetime | None:
    """The newest visit stamp among a member's conversations (the one /chat lands on)."""
    return max((m.last_visited_at for m in memberships if m.last_visited_at), default=None)


async def read(user: User, conversation: Conversation, seq: int | None) -> int:
    """A member's page has shown the conversation up to seq: read up to there, and stamp it as
    where /chat lands next unless it already is (and the stamp is under a minute old)."""
    mine = await Membership.filter(user_id=user.id)
    member = next((m for m in mine if m.conversation_id == conversation.id), None)
    if member is None:
        return await service.mark_read(user, conversation, seq)  # refuses: not a member
    last = member.last_visited_at
    stale = last is None or (clock.now() - last).total_seconds() > STAMP_EVERY_SECONDS
    return await service.mark_read(user, conversation, seq, touch=stale or last != latest(mine))
