"""Where a member was last: the conversation /chat takes them to, and the visit stamp a page view
leaves behind (written only when it changes, or once a minute, so a reload writes nothing)."""
from __future__ import annotations

from datetime import datetime

from app import clock
from app.chat import service
from app.models import Conversation, Membership, User

STAMP_EVERY_SECONDS = 60


async def landing(user: User) -> int:
    """The conversation /chat opens: the one visited last, else #general. Everyone is in
    #general: an account made outside the services (before chat existed) joins it here."""
    await service.welcome(user)
    last = await Membership.filter(user_id=user.id, last_visited_at__isnull=False).order_by("-last_visited_at").first()
    return last.conversation_id if last else (await service.general()).id


def latest(memberships: list[Membership]) -> datetime | None:
    """The newest visit stamp among a member's conversations (the one /chat lands on)."""
    return max((m.last_visited_at for m in memberships if m.last_visited_at), default=None)


async def viewed(user: User, conversation: Conversation, member: Membership, seq: int, *,
                 latest_visit: datetime | None) -> None:
    """A member's page shows the conversation up to seq: read up to there, and stamp it as where
    /chat lands next unless it already is (and the stamp is under a minute old)."""
    last = member.last_visited_at
    stale = last is None or (clock.now() - last).total_seconds() > STAMP_EVERY_SECONDS
    await service.mark_read(user, conversation, seq, member=member, touch=stale or last != latest_visit)
