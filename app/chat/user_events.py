"""Chat's live events for people rather than a conversation's stream, each rendered once (HTML for
pages, a dict for programs): on the user's own topic what concerns only them (a conversation read,
mentions, memberships, notification levels), and on everyone's the rooms their sidebars list.
A conversation's own events (messages, header, typing) are app/chat/events.py's."""
from __future__ import annotations

import json

from quart import render_template

from app.models import Conversation, Message
from app.realtime.broker import Event
from app.realtime.events import publish


async def read(user_id: int, conversation_id: int, seq: int, unread: int, *,
               mentions: dict[int, int] | None = None) -> None:
    """Every tab and program of the user: this conversation is read up to seq, and how many
    messages are still unread there (programs get it as `unread`); pages also get the unread
    mentions, there and in all (`mentions`: per conversation), for the sidebar and the header."""
    mentions = mentions or {}
    html = await render_template("chat/_read_event.html", conversation_id=conversation_id, seq=seq,
                                 unread=unread, mentions=mentions.get(conversation_id, 0),
                                 mentions_total=sum(mentions.values()))
    await publish(Event("unread", f"user:{user_id}", html=html,
                        data={"conversation_id": conversation_id, "read_seq": seq, "unread": unread}))


async def mentions_changed(message: Message, counted: set[int], people: set[int], *, removed: bool = False) -> None:
    """These people are newly mentioned by the message (or no longer: removed, by an edit or its
    deletion). Each hears it on their own topic: their pages' badges count it when it is unread
    for them (`counted`), programs get `mention` (new ones only). Rendered once per kind (counted
    or not), the very same bytes for every person of that kind."""
    for group, is_counted in ((people & counted, True), (people - counted, False)):
        if not group:
            continue
        html = await render_template("chat/_mention_event.html", message=message, counted=is_counted, removed=removed)
        data = {} if removed else {"conversation_id": message.conversation_id, "message_id": message.id,
                                   "seq": message.seq, "unread": is_counted}
        frame = json.dumps({"action": "mention", "data": data}, separators=(",", ":")) if data else ""
        for user_id in sorted(group):
            await publish(Event("mention", f"user:{user_id}", html=html, data=data, frame=frame))


GONE_NOTICE = {
    "removed": "You were removed from #{name}.",
    "deleted": "#{name} was deleted.",
    "left": "You left #{name}.",
}


async def membership_changed(conversation: Conversation, user_ids: list[int], *, gone: str | None = None) -> None:
    """The people whose membership changed: their sockets start or stop listening to the
    conversation, and their pages refresh the sidebar. `gone` ("removed", "deleted", "left")
    says why they are no longer in it: a page showing it says so at once and stops the composer."""
    notice = GONE_NOTICE[gone].format(name=conversation.name) if gone else ""
    html = await render_template("chat/_membership_event.html", conversation=conversation, gone=gone, notice=notice)
    data = {"conversation_id": conversation.id, **({"gone": gone} if gone else {})}
    for user_id in set(user_ids):
        await publish(Event("membership", f"user:{user_id}", html=html, data=data))


async def level_changed(user_id: int, conversation_id: int, level: str, default: bool) -> None:
    """A member chose what they are notified of in a conversation: every tab and program of theirs
    hears it (the header's "Notify me of" follows it: static/js/level.js; programs get
    `notifications.changed`)."""
    html = await render_template("chat/_level_event.html", conversation_id=conversation_id, level=level)
    await publish(Event("notifications.changed", f"user:{user_id}", html=html,
                        data={"conversation_id": conversation_id, "level": level, "default": default}))


ROOM_NOTICE = {
    "archived": "#{name} is archived: it is read-only.",
    "closed": "#{name} is now closed: only its members can read it.",
    "deleted": "#{name} was deleted.",
}


async def rooms_changed(room: Conversation | None = None, state: str = "active") -> None:
    """A room was made, opened, closed, renamed, archived or deleted: every page's sidebar ("More
    rooms", the room's name) is fetched again, spread out (static/js/lists.js). For a room that
    is or was open (known to all), it carries the header too, so a page previewing the room
    without being in it follows it (static/js/room.js); a closed room's change names nothing."""
    notice = ROOM_NOTICE[state].format(name=room.name) if room is not None and state in ROOM_NOTICE else ""
    html = await render_template("chat/_rooms_event.html", room=room, state=state, notice=notice)
    await publish(Event("rooms", "presence", html=html))
