"""What the sidebar of every chat page shows (the person's rooms and conversations, unread and
mention counts, people and who is online) and a conversation's title: gathered in a handful of
queries for the pages that show them (app/chat/routes.py and the sidebar's own fragment)."""
from __future__ import annotations

from app.chat import service, titles, visits
from app.models import THREAD, Conversation, Membership, User, names
from app.models.notify import NOTHING, effective_level
from app.realtime import events as live_events


async def sidebar_context(me: User, current: Conversation | None = None) -> dict:
    mine = await service.my_conversations(me)
    rooms = sorted((c for c, _ in mine if c.is_room), key=lambda c: c.name_key or "")
    archived = [c for c in rooms if c.is_archived]  # out of the active list, still reachable
    rooms = [c for c in rooms if not c.is_archived]
    directs = [c for c, _ in mine if not c.is_room]
    people_of = await service.members_of([c.id for c in directs], without=me.id)  # one query for all
    people = await service.people_list(100)
    # Names as they are now, for the people list and the direct conversations' titles.
    labels = await names.labels({p.id for p in people} | titles.member_ids(directs))
    return {
        "labels": labels, "titles": titles.direct_titles(me.id, directs, labels),
        "rooms": rooms, "archived_rooms": archived, "directs": directs, "people_of": people_of, "current": current,
        "unread": await service.unread_counts(me), "people": people,
        # Beside each unread count, the unread mentions; a conversation set to "Nothing" shows only those.
        "mention_counts": await service.mention_counts_by_id(me.id),
        "muted": {c.id for c, m in mine if effective_level(c.kind, m.notify) == NOTHING},
        "online_ids": await live_events.online_ids(p.id for p in people),
        "other_rooms": await service.open_rooms_not_joined(me),
        "last_visit": visits.latest([m for _, m in mine]),
        # The threads I follow: the one "Threads" entry counts their unread replies and mentions.
        "thread_ids": await Membership.filter(user_id=me.id, conversation__kind=THREAD)
        .values_list("conversation_id", flat=True),
    }


def title_of(conversation: Conversation, sidebar: dict) -> str:
    if conversation.is_room:
        return f"#{conversation.name}"
    return sidebar["titles"].get(conversation.id, "Just you")
