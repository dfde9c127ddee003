"""Chat rules, in one place for the pages, the JSON API and tests: who sees, reads, posts to,
edits and deletes what; numbering every change; unread counts. Services never touch the
request or render: they publish through app/chat/events.py after their transaction commits."""
from __future__ import annotations

from typing import NamedTuple

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app import clock, signals
from app.chat import events, mentions
from app.chat.conversations import (  # noqa: F401 - one service for callers: rooms and directs too
    DIRECT_MAX_PEOPLE,
    EVERYONE_IN_GENERAL,
    GENERAL,
    ROOM_NAME_MAX,
    TOPIC_MAX,
    add_member,
    check_room,
    create_room,
    direct_key,
    direct_people,
    find_direct,
    general,
    is_everyones,
    join,
    leave,
    may_leave,
    may_manage,
    open_direct,
    open_room,
    remove_member,
    room_key,
    welcome,
)
from app.chat.history import (  # noqa: F401 - one service for callers: reading history too
    PAGE,
    around,
    changes_since,
    from_unread,
    has_newer,
    history,
    history_rows,
    newer_rows,
    newest_first,
    preview,
)
from app.chat.room_changes import (  # noqa: F401 - one service for callers: changing rooms too
    CLOSING_KEEPS_MEMBERS,
    GENERAL_STAYS,
    OPENING_LISTS_IT,
    change_room,
    delete_room,
    manageable,
    message_count,
)
from app.domain import Invalid, NotAllowed, NotFound, RateLimited, check_text
from app.models import ROOM, AuditEvent, Conversation, Membership, Message, User, reads
from app.models import search as search_index
from app.runtime import runtime

UNREAD_CAP = 100  # counted up to here, shown as "99+"
# Posts per user are limited (HUDDLE_POSTS_PER_10_SECONDS): every door's post comes through post()
# below, so the composer, a first direct message, the REST API and both websockets alike.
POSTING_TOO_FAST = "You are sending very fast: wait {wait} s, then send again."


# --- seeing a conversation ---------------------------------------------------------------------

async def membership(user: User, conversation_id: int) -> Membership | None:
    return await membership_by_id(user.id, conversation_id)


async def membership_by_id(user_id: int, conversation_id: int) -> Membership | None:
    found = await reads.rows(f"SELECT {reads.columns(Membership, 'm')} FROM memberships m "
                             "WHERE m.user_id = ? AND m.conversation_id = ?", [user_id, conversation_id])
    return reads.instance(Membership, found[0]) if found else None


async def conversation_ids(user_id: int) -> list[int]:
    return await Membership.filter(user_id=user_id).values_list("conversation_id", flat=True)


def may_read(conversation: Conversation, member: Membership | None) -> bool:
    """THE rule of who reads a conversation: its members, and everyone an open room (a preview,
    read-only, until they join). Administrators too only by this rule. The conversation page
    (visible) and search (readable_conversation_ids) both ask it."""
    return _may_read(conversation.kind, conversation.is_open, member is not None)


def _may_read(kind: str, is_open: bool, is_member: bool) -> bool:
    return is_member or (kind == ROOM and bool(is_open))


async def visible(user: User, conversation_id: int) -> tuple[Conversation, Membership | None]:
    """The conversation and the user's membership, if the user may see it (may_read). Anything
    else does not exist, as far as they can tell (404)."""
    # One query for both (hot: every conversation page and action).
    found = await reads.rows(
        f"SELECT {reads.columns(Conversation, 'c')}, {reads.columns(Membership, 'm', 'm_')} FROM conversations c "
        "LEFT JOIN memberships m ON m.conversation_id = c.id AND m.user_id = ? WHERE c.id = ?",
        [user.id, conversation_id])
    conversation = reads.instance(Conversation, found[0]) if found else None
    member = reads.instance(Membership, found[0], "m_") if found and found[0]["m_id"] is not None else None
    if conversation is None or not may_read(conversation, member):
        raise NotFound("There is no such conversation, or you are not in it.")
    return conversation, member


async def readable_conversation_ids(user: User) -> set[int]:
    """Every conversation the user may read now (may_read), in one query: the candidates are
    their memberships and the rooms (directs are the many, and only members read those)."""
    found = await reads.rows(
        "SELECT c.id AS id, c.kind AS kind, c.is_open AS is_open, m.id AS member FROM conversations c "
        "LEFT JOIN memberships m ON m.conversation_id = c.id AND m.user_id = ? "
        "WHERE m.id IS NOT NULL OR c.kind = ?", [user.id, ROOM])
    return {row["id"] for row in found if _may_read(row["kind"], row["is_open"], row["member"] is not None)}


async def member_of(user: User, conversation_id: int) -> tuple[Conversation, Membership]:
    """For anything that reads messages or writes: members only (404 for the rest)."""
    conversation, member = await visible(user, conversation_id)
    if member is None:
        raise NotFound("Join this room to read and post in it.")
    return conversation, member


async def header_changed_since(conversation_id: int, after: int) -> Conversation | None:
    """The room, if its header (name, topic, open, archived) changed after event number `after`."""
    return await Conversation.get_or_none(id=conversation_id, kind=ROOM, header_seq__gt=after)


async def my_conversations(user: User) -> list[tuple[Conversation, Membership]]:
    found = await reads.rows(
        f"SELECT {reads.columns(Membership, 'm')}, {reads.columns(Conversation, 'c', 'c_')} FROM memberships m "
        "JOIN conversations c ON c.id = m.conversation_id WHERE m.user_id = ? ORDER BY m.id", [user.id])
    return [(reads.instance(Conversation, row, "c_"), reads.instance(Membership, row)) for row in found]


async def members(conversation: Conversation) -> list[User]:
    return [m.user for m in await Membership.filter(conversation_id=conversation.id).select_related("user")]


async def members_of(conversation_ids: list[int], *, without: int | None = None) -> dict[int, list[User]]:
    """The members of several conversations in one query (a sidebar of direct conversations)."""
    found: dict[int, list[User]] = {cid: [] for cid in conversation_ids}
    if conversation_ids:
        rows = Membership.filter(conversation_id__in=conversation_ids).select_related("user").order_by("user_id")
        for row in await rows:
            if row.user_id != without:
                found[row.conversation_id].append(row.user)
    return found


async def open_rooms_not_joined(user: User) -> list[Conversation]:
    """Open rooms the user is not in (not archived ones)."""
    found = await reads.rows(
        f"SELECT {reads.columns(Conversation, 'c')} FROM conversations c WHERE c.kind = ? AND c.is_open = ? "
        "AND c.archived_at IS NULL "
        "AND c.id NOT IN (SELECT conversation_id FROM memberships WHERE user_id = ?) ORDER BY c.name_key",
        [ROOM, True, user.id])
    return [reads.instance(Conversation, row) for row in found]


class Person(NamedTuple):
    """What a list of people shows: a name and a presence badge."""
    id: int
    username: str


async def people_list(limit: int = 100) -> list[Person]:
    """The first `limit` people by name: no password hash or dates read for a sidebar."""
    found = await reads.rows("SELECT id, username FROM users ORDER BY username_key LIMIT ?", [limit])
    return [Person(row["id"], row["username"]) for row in found]


async def member_count(conversation: Conversation) -> int:
    found = await reads.rows("SELECT COUNT(*) AS n FROM memberships WHERE conversation_id = ?", [conversation.id])
    return int(found[0]["n"])


async def unread_counts(user: User) -> dict[int, int]:
    return await unread_counts_by_id(user.id)


async def unread_counts_by_id(user_id: int) -> dict[int, int]:
    """Per conversation: messages after what the user has read, not deleted, not their own
    (counted from last_read_seq, never a counter that can drift), capped at UNREAD_CAP."""
    # One query for the whole sidebar, each count a range scan of the (conversation, seq) index.
    rows = await reads.rows("""
        SELECT m.conversation_id AS conversation_id, COUNT(msg.id) AS unread
        FROM memberships m
        LEFT JOIN messages msg ON msg.conversation_id = m.conversation_id AND msg.seq > m.last_read_seq
             AND msg.deleted_at IS NULL AND (msg.author_id IS NULL OR msg.author_id <> m.user_id)
        WHERE m.user_id = ?
        GROUP BY m.conversation_id""", [user_id])
    return {row["conversation_id"]: min(int(row["unread"]), UNREAD_CAP) for row in rows}


async def send_direct(actor: User, usernames: list[str], text: str, client_id: str | None = None) -> Message:
    """Start (or continue) a direct conversation with its first message: nothing is made before
    (nor when the sender is over the posting limit; post() then counts the message)."""
    body = check_body(text)
    if wait := await runtime().limiters.post_user.retry_after(str(actor.id)):
        raise RateLimited(POSTING_TOO_FAST.format(wait=wait), wait)
    conversation = await open_direct(actor, usernames)
    return await post(actor, conversation, body, client_id)


# --- messages -----------------------------------------------------------------------------------

def check_body(text: str) -> str:
    body = (text or "").replace("\r\n", "\n").strip()
    if not body:
        raise Invalid({"body": "Write something first."})
    check_text(body=body)
    if len(body) > Message.MAX_LENGTH:
        raise Invalid({"body": f"Keep a message to {Message.MAX_LENGTH:,} characters (this one has {len(body):,})."})
    return body


def check_not_archived(conversation: Conversation) -> None:
    """An archived room is read-only: nobody posts or edits there (the text is kept, by the field)."""
    if conversation.archived_at is not None:
        raise Invalid({"body": f"#{conversation.name} is archived: it is read-only."})


def check_client_id(client_id: str | None) -> str | None:
    if not client_id:
        return None
    if len(client_id) > 64 or not all(ch.isalnum() or ch in "-_" for ch in client_id):
        raise Invalid({"client_id": "That message id is not valid."})
    return client_id


async def post(actor: User, conversation: Conversation, text: str, client_id: str | None = None, *,
               confirm_everyone: bool = False) -> Message:
    """A new message from a member, counted against their posting limit (RateLimited past it);
    the same client_id again returns the first one (a retry, not counted). Whom it mentions is
    stored with it (app/chat/mentions.py: @everyone refused where it is off, and in a big room
    unless confirm_everyone)."""
    body = check_body(text)
    client_id = check_client_id(client_id)
    if await membership(actor, conversation.id) is None:
        raise NotFound("Join this room to read and post in it.")
    if client_id and (earlier := await Message.get_or_none(conversation_id=conversation.id, client_id=client_id)):
        return earlier
    check_not_archived(conversation)
    said = mentions.find(body)
    await mentions.check_everyone(actor, conversation, said, confirm_everyone)
    mentioned = await mentions.targets(actor, conversation, said, may_read)
    await runtime().limiters.post_user.spend(str(actor.id), POSTING_TOO_FAST)
    try:
        async with in_transaction() as conn:
            seq = await Conversation.next_seq(conn, conversation.id)
            # Archived meanwhile? (The row is locked now: an archive commits before or after.)
            check_not_archived(await Conversation.get(id=conversation.id).using_db(conn))
            message = await Message.create(
                conversation_id=conversation.id, author=actor, author_name=actor.username, body=body,
                seq=seq, version_seq=seq, client_id=client_id,
            )
            await search_index.index(conn, message.id, conversation.id, body)
            await mentions.record(message, mentioned)
            # What I post, I have read.
            await Membership.filter(user_id=actor.id, conversation_id=conversation.id).update(last_read_seq=seq)
    except IntegrityError:
        if client_id and (earlier := await Message.get_or_none(conversation_id=conversation.id, client_id=client_id)):
            return earlier  # the retry raced the first attempt
        raise
    message.conversation = conversation
    await events.message_changed(message, "message.created")
    people = set(mentioned.people)
    await events.mentions_changed(message, await mentions.unread_among(conversation.id, message.seq, people), people)
    await signals.message_posted.send(message, people)
    return message


async def get_message(actor: User, message_id: int) -> Message:
    """A message in one of the actor's conversations (404 otherwise, deleted ones too)."""
    message = await Message.get_or_none(id=message_id, deleted_at__isnull=True).select_related("conversation")
    if message is None or await membership(actor, message.conversation_id) is None:
        raise NotFound("That message does not exist, or was deleted.")
    return message


def check_may_edit(actor: User, message: Message) -> None:
    """Only its author edits a message (administrators neither: they may delete it)."""
    if message.author_id != actor.id:
        raise NotAllowed("Only its author can edit a message.")


async def edit(actor: User, message: Message, text: str, *, confirm_everyone: bool = False) -> Message:
    """Its author changes it; whom it mentions follows (a person newly named is mentioned now, one
    taken out is no longer), and adding @everyone asks what a post would ask."""
    check_may_edit(actor, message)
    body = check_body(text)
    conversation = await Conversation.get(id=message.conversation_id)
    check_not_archived(conversation)
    if body == message.body:
        return message
    said = mentions.find(body)
    await mentions.check_everyone(actor, conversation, said, confirm_everyone, before=mentions.find(message.body))
    mentioned = await mentions.targets(actor, conversation, said, may_read)
    async with in_transaction() as conn:
        seq = await Conversation.next_seq(conn, message.conversation_id)
        message.body, message.version_seq, message.edited_at = body, seq, clock.now()
        await message.save(update_fields=["body", "version_seq", "edited_at"])
        await search_index.reindex(conn, message.id, body)  # found by its new words only
        added, removed = await mentions.update(message, mentioned)
        # Whose badges count the change (unread for them): asked where the rows changed.
        counted = await mentions.unread_among(message.conversation_id, message.seq, added | removed)
    message.conversation = conversation
    await events.message_changed(message, "message.edited")
    await events.mentions_changed(message, counted & added, added)
    await events.mentions_changed(message, counted & removed, removed, removed=True)
    if added:
        await signals.mentions_added.send(message, added)
    return message


async def delete(actor: User, message: Message) -> Message:
    """Its author or an administrator; the message becomes a tombstone that keeps its number."""
    if message.author_id != actor.id and not actor.is_admin:
        raise NotAllowed("Only its author and administrators can delete a message.")
    async with in_transaction() as conn:
        seq = await Conversation.next_seq(conn, message.conversation_id)
        message.version_seq, message.deleted_at = seq, clock.now()
        await message.save(update_fields=["version_seq", "deleted_at"])
        await search_index.unindex(conn, message.id)
        mentioned = await mentions.remove_all(message)  # (the rows cascade only on a hard delete)
        counted = await mentions.unread_among(message.conversation_id, message.seq, mentioned)
        if message.author_id != actor.id:
            await AuditEvent.record(actor, "message.deleted", None, author=message.author_name)
    await events.message_changed(message, "message.deleted")
    await events.mentions_changed(message, counted, mentioned, removed=True)
    return message


async def mark_read(actor: User, conversation: Conversation, seq: int | None = None, *,
                    member: Membership | None = None, touch: bool = True) -> int:
    """Read up to seq (default: everything); never moves backwards. All the user's tabs hear it.
    A caller that has just loaded the conversation and the actor's membership passes the latter,
    and the conversation's number as loaded bounds seq (a page shows what it loaded)."""
    if member is None:
        member = await membership(actor, conversation.id)
        if member is None:
            raise NotFound("There is no such conversation, or you are not in it.")
        latest = (await Conversation.get(id=conversation.id)).last_seq
    else:
        latest = conversation.last_seq
    seq = latest if seq is None else max(0, min(seq, latest))
    if touch:  # the page view: where /chat takes them next time
        await Membership.filter(id=member.id).update(last_visited_at=clock.now())
    if seq <= member.last_read_seq:
        return member.last_read_seq  # nothing new read: no write, no event (a page reload)
    await Membership.filter(id=member.id, last_read_seq__lt=seq).update(last_read_seq=seq)
    member.last_read_seq = seq
    unread = (await unread_counts_by_id(actor.id)).get(conversation.id, 0)
    await events.read(actor.id, conversation.id, member.last_read_seq, unread,
                      mentions=await mentions.unread_counts(actor.id))
    await signals.conversation_read.send(actor.id, conversation.id, member.last_read_seq)
    return member.last_read_seq


async def mark_unread_from(actor: User, message: Message) -> int:
    """"Mark unread from here": the one way the read position moves back, to just before this
    message (never forward). All the user's tabs hear it, with the count now unread."""
    member = await membership(actor, message.conversation_id)
    if member is None:
        raise NotFound("There is no such conversation, or you are not in it.")
    seq = max(0, message.seq - 1)
    if seq < member.last_read_seq:
        await Membership.filter(id=member.id).update(last_read_seq=seq)
        member.last_read_seq = seq
    unread = (await unread_counts_by_id(actor.id)).get(message.conversation_id, 0)
    await events.read(actor.id, message.conversation_id, member.last_read_seq, unread,
                      mentions=await mentions.unread_counts(actor.id))
    return member.last_read_seq


# --- mentions (app/chat/mentions.py) ---------------------------------------------------------------

async def mention_counts_by_id(user_id: int) -> dict[int, int]:
    """Per conversation: the user's unread mentions there (from last_read_seq, like unread)."""
    return await mentions.unread_counts(user_id)


async def mentions_of(user: User, *, before: int | None = None, size: int = PAGE) -> tuple[list, int | None]:
    """Everything that mentioned the user, newest first, in conversations they may read now
    (may_read), a page at a time (keyset: `before` is the cursor the page before gave)."""
    return await mentions.page(user, before=before, size=size, may_read=may_read)
