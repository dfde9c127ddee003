"""What a member is notified of in a conversation: every message, mentions only, or nothing
(app/models/notify.py LEVELS, stored in Membership.notify; NULL follows the default: rooms
mentions, direct conversations all). One rule for every door (the conversation's header, REST
/api/v1/conversations/<id>/notifications, the JSON websocket's `notifications`): members only
(anyone else gets the conversation's 404, administrators too), and a level is one of the three
(or none: back to the default). Who is then told of what is app/notify's, from effective_level."""
from __future__ import annotations

from typing import NamedTuple

from app.chat import service, user_events
from app.domain import Invalid, NotFound
from app.models import Conversation, Membership, User
from app.models.notify import ALL, LEVELS, MENTIONS, NOTHING, effective_level

NAMES = {ALL: "All messages", MENTIONS: "Mentions only", NOTHING: "Nothing"}
BAD_LEVEL = "Choose all, mentions or nothing."
NOT_FOLLOWING = "Follow this thread first: its followers choose what they hear of it."


class Level(NamedTuple):
    level: str  # what the member is notified of here now
    default: bool  # they follow the default (never chose)
    default_level: str  # the default here (rooms: mentions, directs: all)

    @property
    def name(self) -> str:
        return NAMES[self.level]

    @property
    def choices(self) -> list[tuple[str, str]]:
        return list(NAMES.items())


def of(conversation: Conversation, member: Membership) -> Level:
    """A member's level, from rows already loaded (no query: the conversation page has both)."""
    return Level(effective_level(conversation.kind, member.notify), member.notify not in LEVELS,
                 effective_level(conversation.kind, None))


def check(level: object) -> str | None:
    """A level as chosen, None for the default; anything else refused (said of the field `level`)."""
    if level is None:
        return None
    if not isinstance(level, str) or level not in LEVELS:
        raise Invalid({"level": BAD_LEVEL})
    return level


async def _member(user: User, conversation_id: int) -> tuple[Conversation, Membership]:
    conversation, member = await service.member_of(user, conversation_id)
    if member is None:  # a thread one does not follow: nothing to be notified of there
        raise NotFound(NOT_FOLLOWING)
    return conversation, member


async def get(user: User, conversation_id: int) -> tuple[Conversation, Level]:
    conversation, member = await _member(user, conversation_id)
    return conversation, of(conversation, member)


async def choose(user: User, conversation_id: int, level: object) -> tuple[Conversation, Level]:
    """Set the member's level (None: back to the default). Not a member: NotFound, whatever the
    level. Every tab and program of theirs hears it. A thread: its followers."""
    conversation, member = await _member(user, conversation_id)
    member.notify = check(level)
    await Membership.filter(id=member.id).update(notify=member.notify)
    chosen = of(conversation, member)
    await user_events.level_changed(user.id, conversation.id, chosen.level, chosen.default)
    return conversation, chosen
