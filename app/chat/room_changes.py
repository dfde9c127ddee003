"""A room after it is made: renamed, given a topic, opened or closed, archived, deleted. By its
creator or an administrator, audited, and live for everyone who has it open.

The header (name, topic, open, archived) is one record of the conversation: each change takes
the conversation's next number like a message change does, and `header_seq` keeps the latest,
so a page or program that catches up from the database gets the header as it is now, in its
place among the messages (app/chat/live.py). app/chat/service.py re-exports these."""
from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from app import clock
from app.chat import events, threads, user_events
from app.chat.conversations import (
    ROOM_TAKEN,
    ROOM_TOO_CLOSE,
    check_room,
    is_everyones,
    may_manage,
    room_key,
)
from app.domain import Invalid, NotAllowed, NotFound
from app.models import THREAD, AuditEvent, Conversation, Membership, Message, MessageSearch, User, reads

NOT_YOURS = "Only the room's creator and administrators can change it."
GENERAL_STAYS = "#general is everyone's: it keeps its name, stays open and is never archived or deleted."
# What the form says of switching, so nobody wonders what happens to the people in it.
CLOSING_KEEPS_MEMBERS = "Closing keeps everyone who is in the room now; others can no longer see or join it."
OPENING_LISTS_IT = "Opening lists the room for every member, who can then read and join it; its members stay."


async def manageable(actor: User, conversation_id: int) -> Conversation:
    """The room, if the actor may change it (its creator, or an administrator, member or not).
    Someone who can see it but not change it is refused (403); to anyone else it does not exist
    (404: a closed room is never revealed)."""
    found = await reads.rows(
        f"SELECT {reads.columns(Conversation, 'c')}, "
        "(SELECT COUNT(*) FROM memberships m WHERE m.conversation_id = c.id AND m.user_id = ?) AS mine "
        "FROM conversations c WHERE c.id = ?", [actor.id, conversation_id])
    room = reads.instance(Conversation, found[0]) if found else None
    if room is None or not room.is_room:
        raise NotFound("There is no such conversation, or you are not in it.")
    if may_manage(actor, room):
        return room
    if found[0]["mine"] or room.is_open:
        raise NotAllowed(NOT_YOURS)
    raise NotFound("There is no such conversation, or you are not in it.")


async def message_count(room: Conversation) -> int:
    """What deleting the room deletes (the confirmation page says it)."""
    return await Message.filter(conversation_id=room.id, deleted_at__isnull=True).count()


async def change_room(actor: User, room: Conversation, *, name: str | None = None, topic: str | None = None,
                      is_open: bool | None = None, archived: bool | None = None,
                      everyone_allowed: bool | None = None) -> Conversation:
    """Change what is given (None: unchanged). Nothing changed: nothing written, nothing sent.
    `everyone_allowed` is whether @everyone may be written there (app/chat/mentions.py): #general's
    too, its biggest room."""
    if not may_manage(actor, room):
        raise NotAllowed(NOT_YOURS)
    new_name, new_topic = check_room(room.name if name is None else name, room.topic if topic is None else topic)
    changes = []
    if new_name != room.name:
        changes.append(["name", room.name, new_name])
    if new_topic != (room.topic or ""):
        changes.append(["topic", room.topic or "", new_topic])
    if is_open is not None and is_open != room.is_open:
        changes.append(["open", "open" if room.is_open else "closed", "open" if is_open else "closed"])
    if archived is not None and archived != room.is_archived:
        changes.append(["archived", "no" if archived else "yes", "yes" if archived else "no"])
    if everyone_allowed is not None and everyone_allowed != room.everyone_allowed:
        changes.append(["@everyone", "on" if room.everyone_allowed else "off", "on" if everyone_allowed else "off"])
    if not changes:
        return room
    if is_everyones(room) and any(field not in {"topic", "@everyone"} for field, _, _ in changes):
        raise Invalid({field: GENERAL_STAYS for field, _, _ in changes if field not in {"topic", "@everyone"}})
    key, (folded, shown) = room_key(new_name), Conversation.skeletons(new_name)
    if new_name != room.name:
        others = Conversation.filter(Q(name_skeleton=folded) | Q(name_shown_skeleton=shown) | Q(name_key=key))
        if await others.exclude(id=room.id).exists():  # (which room is not said: it may be closed)
            taken = await Conversation.filter(name_key=key).exclude(id=room.id).exists()
            raise Invalid({"name": ROOM_TAKEN if taken else ROOM_TOO_CLOSE})
    was_open = room.is_open
    now_open = room.is_open if is_open is None else is_open
    archived_at = room.archived_at if archived is None else ((room.archived_at or clock.now()) if archived else None)
    everyone = room.everyone_allowed if everyone_allowed is None else everyone_allowed
    try:
        async with in_transaction() as conn:
            seq = await Conversation.next_seq(conn, room.id)
            # The name's columns only when it changes (an old look-alike kept without skeletons
            # by migration 7 keeps them NULL through a topic change).
            renamed = ({"name": new_name, "name_key": key, "name_skeleton": folded, "name_shown_skeleton": shown}
                       if new_name != room.name else {})
            await Conversation.filter(id=room.id).using_db(conn).update(
                **renamed, topic=new_topic, is_open=now_open, archived_at=archived_at, everyone_allowed=everyone,
                header_seq=seq)
            if archived is not None:  # its threads are read-only with it (their posts check their own row)
                await Conversation.filter(parent_id=room.id, kind=THREAD).using_db(conn).update(archived_at=archived_at)
            await AuditEvent.record(actor, "room.edited", None, room=new_name, changes=changes)
    except IntegrityError:  # renamed at the same moment to the same name, or one like it
        taken = await Conversation.filter(name_key=key).exclude(id=room.id).exists()
        raise Invalid({"name": ROOM_TAKEN if taken else ROOM_TOO_CLOSE}) from None
    # The caller's object as the next request would load it (only now: a failure leaves it be).
    for column, value in renamed.items():
        setattr(room, column, value)
    room.topic, room.is_open, room.archived_at, room.header_seq, room.last_seq = (
        new_topic, now_open, archived_at, seq, seq)
    room.everyone_allowed = everyone
    await events.room_changed(room)
    if was_open and not room.is_open:  # who is not in it now can no longer read its threads
        await threads.forget_follows(room)
    if was_open or room.is_open:  # "More rooms" and the sidebars, on every page
        state = "closed" if not room.is_open else "archived" if room.is_archived else "active"
        await user_events.rooms_changed(room, state)
    elif any(field in {"name", "archived"} for field, _, _ in changes):  # a closed room: its members' only
        members = await Membership.filter(conversation_id=room.id).values_list("user_id", flat=True)
        await user_events.membership_changed(room, members)
    return room


async def delete_room(actor: User, room: Conversation) -> int:
    """The room, its messages and memberships, gone for everyone; its members are told at once.
    The number of messages deleted."""
    if not may_manage(actor, room):
        raise NotAllowed(NOT_YOURS)
    if is_everyones(room):
        raise NotAllowed(GENERAL_STAYS)
    async with in_transaction():
        member_ids = await Membership.filter(conversation_id=room.id).values_list("user_id", flat=True)
        messages = await Message.filter(conversation_id=room.id).count()
        await Message.filter(conversation_id=room.id).delete()
        await MessageSearch.filter(conversation_id=room.id).delete()  # its search index rows go with them
        thread_ids = await Conversation.filter(parent_id=room.id, kind=THREAD).values_list("id", flat=True)
        if thread_ids:  # its threads go with it (by `parent`): their index rows too
            await MessageSearch.filter(conversation_id__in=thread_ids).delete()
        await Membership.filter(conversation_id=room.id).delete()
        if not await Conversation.filter(id=room.id).delete():
            raise NotFound("There is no such conversation, or you are not in it.")
        await AuditEvent.record(actor, "room.deleted", None, room=room.name, messages=messages)
    await user_events.membership_changed(room, member_ids, gone="deleted")
    if room.is_open:
        await user_events.rooms_changed(room, "deleted")
    return messages
