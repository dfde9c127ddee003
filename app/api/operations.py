"""What programs can do, once for every program door: the REST API (/api/v1), the JSON websocket
(/api/v1/ws) and the messenger adapter (/api/messenger) all call these.

Each is a thin step over the same services the pages call (accounts, chat): the rules (who may
post, edit, delete, see) live there, never here. These add what programs need around them:
tokens instead of cookies, the same login and registration limits, and answers as JSON-ready
dicts (the posting limit is the chat service's own)."""
from __future__ import annotations

from datetime import timedelta

from quart import current_app

from app.accounts import auth, names
from app.accounts import service as accounts
from app.api import tokens
from app.chat import levels, reactions
from app.chat import service as chat
from app.chat.events import messages_data
from app.domain import Invalid, NotFound
from app.links import service as links
from app.models import DIRECT, Conversation, Membership, User, UserSession
from app.realtime import events as live_events
from app.search import service as search_service


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


# --- people -------------------------------------------------------------------------------------

async def public_user(user: User) -> dict:
    """What anyone signed in may know of a member: never the email address or the hash."""
    online = await live_events.online_ids([user.id])
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "online": user.id in online,
            "last_online": _iso(user.last_seen_at), "created": _iso(user.created_at)}


async def me(user: User) -> dict:
    return {**await public_user(user), "email": user.email, "is_admin": user.is_admin}


async def set_display_name(user: User, display_name: str) -> dict:
    """The caller's display name (accounts' one rule, as on the account page)."""
    return await me(await names.set_display_name(user, user, display_name))


async def details(username: str | None = None, user_id: int | None = None) -> dict:
    if user_id is not None and not isinstance(user_id, bool):
        person = await User.get_or_none(id=user_id) if 0 < user_id else None
        if person is None:
            raise NotFound("There is no such user.")
    elif isinstance(username, str) and username.strip():
        person = await accounts.get_user(username[:200])
    else:
        raise Invalid({"username": "Give a username (or a user id)."})
    return await public_user(person)


def _token_answer(session: UserSession, token: str) -> dict:
    expires = session.created_at + timedelta(seconds=current_app.config["HUDDLE"].session_max_age_seconds)
    return {"token": token, "expires": expires.isoformat()}


async def register(username: str, email: str, password: str, *, invitation: str | None = None,
                   user_agent: str = "", display_name: str = "") -> tuple[User, dict]:
    """A new account (who may join, the registration rules and the per-network limit), logged
    in: a token. `invitation` is the token of an invitation link (the part after /join/)."""
    user = await auth.register_account(username, email, password, password, invitation, display_name=display_name)
    session, token = await tokens.issue(user, user_agent=user_agent, ip=auth.client_ip())
    return user, _token_answer(session, token)


async def login(username: str, password: str, *, user_agent: str = "") -> tuple[User, dict]:
    user = await auth.check_login(username, password)
    session, token = await tokens.issue(user, user_agent=user_agent, ip=auth.client_ip())
    return user, _token_answer(session, token)


# --- conversations ------------------------------------------------------------------------------

async def conversation_list(user: User) -> list[dict]:
    """My conversations, each with its unread count, rooms by name then directs."""
    rows = await chat.my_conversations(user)
    unread = await chat.unread_counts(user)
    direct_ids = [conversation.id for conversation, _ in rows if not conversation.is_room]
    names: dict[int, list[str]] = {}
    if direct_ids:
        members = Membership.filter(conversation_id__in=direct_ids).select_related("user").order_by("user_id")
        for member in await members:
            names.setdefault(member.conversation_id, []).append(member.user.username)
    answers = [_conversation(c, m, unread.get(c.id, 0), names.get(c.id)) for c, m in rows]
    return sorted(answers, key=lambda a: (a["kind"] != "room", a["name"].casefold(), a["id"]))


def _conversation(conversation: Conversation, member: Membership | None, unread: int,
                  names: list[str] | None) -> dict:
    direct = conversation.kind == DIRECT
    return {
        "id": conversation.id, "kind": conversation.kind,
        "name": ", ".join(names or []) if direct else conversation.name or "", "topic": conversation.topic or "",
        "is_open": bool(conversation.is_open), "archived": conversation.is_archived,
        "everyone_allowed": bool(conversation.everyone_allowed),
        "members": names if direct else None,
        "last_seq": conversation.last_seq, "read_seq": member.last_read_seq if member else 0, "unread": unread,
        # A thread: the message it answers, and that message's conversation (whose rule it follows).
        "parent_message_id": conversation.parent_message_id, "parent_id": conversation.parent_id,
    }


async def conversation(user: User, conversation_id: int) -> dict:
    found, member = await chat.member_of(user, conversation_id)
    return await _one_conversation(user, found, member)


async def _one_conversation(user: User, found: Conversation, member: Membership) -> dict:
    names = None
    if found.kind == DIRECT:
        names = [m.username for m in sorted(await chat.members(found), key=lambda m: m.id)]
    return _conversation(found, member, (await chat.unread_counts(user)).get(found.id, 0), names)


async def start_conversation(user: User, usernames: list[str] | None, room: str | None,
                             topic: str | None = None) -> tuple[dict, bool]:
    """A direct conversation with these people (the existing one if they have it), or a room by
    name (joined if open, created if new). Returns it and whether it was made just now."""
    if (usernames is None) == (room is None):
        raise Invalid({"usernames": "Give either usernames (a direct conversation) or room (a room's name)."})
    if usernames is not None:
        existing = await chat.find_direct(user, usernames)
        found = existing or await chat.open_direct(user, usernames)
        created = existing is None
    else:
        found, created = await chat.open_room(user, room, topic or "")
    member = await chat.membership(user, found.id)
    return await _one_conversation(user, found, member), created


async def change_room(user: User, conversation_id: int, *, name: str | None = None, topic: str | None = None,
                      is_open: bool | None = None, archived: bool | None = None,
                      everyone_allowed: bool | None = None) -> dict:
    """The same rules as the room's settings page (app/chat/room_changes.py)."""
    room = await chat.manageable(user, conversation_id)
    room = await chat.change_room(user, room, name=name, topic=topic, is_open=is_open, archived=archived,
                                  everyone_allowed=everyone_allowed)
    return await _one_conversation(user, room, await chat.membership(user, room.id))


async def delete_room(user: User, conversation_id: int) -> dict:
    await chat.delete_room(user, await chat.manageable(user, conversation_id))
    return {"success": True}


# --- messages -----------------------------------------------------------------------------------

async def messages(user: User, conversation_id: int, *, before: int | None = None, after: int | None = None,
                   limit: int = 50) -> dict:
    """A page of messages, newest first, by event number (seq): below `before`, or the first
    `limit` above `after` (to read forward), or the newest. Deleted ones are left out."""
    found, _ = await chat.member_of(user, conversation_id)
    rows, older = await chat.newest_first(found, before=before, after=after, size=max(1, min(int(limit), 100)))
    # `newer` is where to read forward from: the newest here, else where the reader already is.
    newer = rows[0].seq if rows else (after if after is not None else found.last_seq)
    return {"messages": await messages_data(rows), "older": older, "newer": newer}


async def send(user: User, conversation_id: int, text: str, client_id: str | None = None, *,
               confirm_everyone: bool = False, attachments: list | None = None, reply_to: object = None) -> dict:
    """`attachments`: ids of the user's uploads (POST /api/v1/uploads) not sent yet; `reply_to`: the
    id of the message of this conversation it answers (as received: the service checks it)."""
    found, _ = await chat.member_of(user, conversation_id)
    posted = await chat.post(user, found, text, client_id, confirm_everyone=confirm_everyone, attachments=attachments,
                             reply_to=reply_to)
    return (await messages_data([posted]))[0]


async def edit(user: User, message_id: int, text: str, *, confirm_everyone: bool = False) -> dict:
    message = await chat.get_message(user, message_id)
    return (await messages_data([await chat.edit(user, message, text, confirm_everyone=confirm_everyone)]))[0]


async def delete(user: User, message_id: int) -> dict:
    message = await chat.get_message(user, message_id)
    return (await messages_data([await chat.delete(user, message)]))[0]


async def unpreview(user: User, message_id: int) -> dict:
    """Remove my message's link preview: the message as it is then."""
    return (await messages_data([await links.remove(user, message_id)]))[0]


async def react(user: User, message_id: int, emoji: str, *, add: bool = True) -> dict:
    """Put my reaction on a message (add) or take it back: the message as it is then."""
    message = await (reactions.react if add else reactions.unreact)(user, message_id, emoji)
    return (await messages_data([message]))[0]


async def read(user: User, conversation_id: int, seq: int | None = None) -> dict:
    found, _ = await chat.member_of(user, conversation_id)
    read_seq = await chat.mark_read(user, found, seq)
    return {"conversation_id": found.id, "read_seq": read_seq,
            "unread": (await chat.unread_counts(user)).get(found.id, 0)}


# --- notification levels --------------------------------------------------------------------------

def _level(level: levels.Level) -> dict:
    return {"level": level.level, "default": level.default}


async def notification_level(user: User, conversation_id: int) -> dict:
    """What the member is notified of in the conversation (app/chat/levels.py)."""
    _, level = await levels.get(user, conversation_id)
    return _level(level)


async def set_notification_level(user: User, conversation_id: int, level: object) -> dict:
    """Choose it: "all", "mentions", "nothing", or None for the default."""
    _, chosen = await levels.choose(user, conversation_id, level)
    return _level(chosen)


async def mentions(user: User, *, before: int | None = None, limit: int = 50) -> dict:
    """The messages that mention this user, newest mention first, in conversations they may read
    now (chat's rule, as on /mentions): each in the usual shape plus `unread` and `everyone`."""
    items, older = await chat.mentions_of(user, before=before, size=max(1, min(int(limit), 100)))
    shaped = await messages_data([item.message for item in items])
    return {"messages": [{**data, "unread": item.unread, "everyone": item.everyone}
                         for data, item in zip(shaped, items, strict=True)], "older": older}


# --- search -------------------------------------------------------------------------------------

async def search(user: User, q: str, *, conversation_id: int | None = None, order: str = "newest",
                 before: str | None = None, limit: int = 20) -> dict:
    """Messages this user may read that match `q` (the search page's syntax and rules), a page at
    a time: each in the usual message shape plus its `snippet` (HTML, matches in <mark>)."""
    found = await search_service.search(user, q, conversation_id=conversation_id,
                                        order="relevant" if order == "relevant" else "newest",
                                        before=before, limit=limit)
    shaped = await messages_data([hit.message for hit in found.hits])
    return {"messages": [{**data, "snippet": str(hit.snippet)} for data, hit in zip(shaped, found.hits, strict=True)],
            "older": found.older}
