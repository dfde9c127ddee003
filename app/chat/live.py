"""Chat as the live connection sees it (app/realtime/connection.py's Rooms): which topics a user
hears, who may follow a conversation, how its numbered history is replayed, typing signals.

Replayed events are the very events the live push sends (app/chat/events.message_event and
room_event), so a page or program that catches up sees exactly what it would have seen live."""
from __future__ import annotations

from app.chat import events, service
from app.models import THREAD, Conversation, Message
from app.models.chat import rule_of
from app.realtime.broker import Event

PREFIX = "conversation:"


class ConversationRooms:
    def topic(self, conversation_id: int) -> str:
        return events.topic(conversation_id)

    async def topics(self, user_id: int) -> list[str]:
        return [events.topic(cid) for cid in await service.conversation_ids(user_id)]

    async def may_follow(self, user_id: int, topic: str) -> bool:
        """Its members; a thread: whoever may read it (its parent's rule), following it or not (a
        page showing its panel follows it with its own cursor)."""
        conversation_id = conversation_of(topic)
        if conversation_id is None:
            return False
        if await service.membership_by_id(user_id, conversation_id) is not None:
            return not await _thread_unreadable(user_id, conversation_id)  # a follow is not access
        return await _thread_readable(user_id, conversation_id)

    async def changes(self, topic: str, after: int, limit: int) -> list[Event]:
        conversation_id = conversation_of(topic)
        changed = await service.changes_since(conversation_id, after, limit=limit)
        await events.author_labels(changed)  # the authors' names as they are now, in one go
        replayed = [await replay_event(message, after) for message in changed]
        # A room's header changed after `after`: the header as it is now, at its number, in
        # number order among the messages. The header is one record with one latest version
        # (Conversation.header_seq), so the replay is exact without a table of past headers: a
        # reader gets what it would have ended with live, as with an edited message.
        room = await service.header_changed_since(conversation_id, after)
        if room is not None:
            replayed.append(await events.room_event(room))
            replayed.sort(key=lambda event: event.seq)
        return replayed[:limit]

    async def typing(self, topic: str, user, state: str) -> Event:
        return await events.typing(conversation_of(topic), user.id, user.username, state,
                                   shown=user.shown_name)


async def _thread_readable(user_id: int, conversation_id: int) -> bool:
    thread = await Conversation.get_or_none(id=conversation_id, kind=THREAD)
    if thread is None:
        return False
    parent, member = await rule_of(thread, user_id)
    return service.may_read(parent, member)


async def _thread_unreadable(user_id: int, conversation_id: int) -> bool:
    return (await Conversation.exists(id=conversation_id, kind=THREAD)
            and not await _thread_readable(user_id, conversation_id))


def conversation_of(topic: str) -> int | None:
    if not topic.startswith(PREFIX) or not topic[len(PREFIX):].isdigit():
        return None
    return int(topic[len(PREFIX):])


async def replay_event(message: Message, after: int) -> Event:
    """What a reader that had everything up to `after` needs for this message's latest version."""
    new_to_reader = message.seq > after
    if message.deleted_at is not None:
        # Posted and deleted while away: the reader never had it; a page only moves its cursor,
        # a program hears nothing.
        return await events.message_event(message, "message.deleted", cursor_only=new_to_reader)
    return await events.message_event(message, "message.created" if new_to_reader else "message.edited")


rooms = ConversationRooms()
