"""Mentions: whom a message's `@name`s and `@everyone` reach, kept in a table (app/models/notify.py
Mention, one row per person) written in the transaction that posts, edits or deletes the message,
so /mentions, the header's badge and the sidebar's counts read rows, never the text.

- `@name` (in the words, never in code or a link: app/chat/markdown.py finds them) mentions that account,
  looked up like User.by_username (case and width folded), if they may read the conversation now
  (chat.service.may_read, the one rule, which service passes in) and are not the author.
- `@everyone` mentions every member but the author (Mention.everyone). A room's administrators
  may turn it off (Conversation.everyone_allowed): refused, by the body. In a room of more than
  EVERYONE_CONFIRM_ABOVE members the sender confirms first (`confirm_everyone`): a program too.
- A mention is unread while its message's number is above the member's last_read_seq there,
  like an unread message: counts come from numbers, never from a counter.

chat.service calls these (it imports this module, never the other way round)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.chat.markdown import mention_names
from app.chat.text import EVERYONE, mention_key
from app.domain import Invalid
from app.models import Conversation, Membership, Mention, Message, User, reads, usernames

EVERYONE_CONFIRM_ABOVE = 30  # members in a room: more, and @everyone asks first
NAMES_LIMIT = 50  # distinct @names looked up in one message (4,000 characters could hold ~800)
EVERYONE_OFF = "@everyone is turned off in #{room}: mention people by name."
CONFIRM_EVERYONE = ("Notify all {count} members of #{room}? @everyone reaches each of them: tick "
                    "“Notify all members” and send again.")


@dataclass(frozen=True)
class Found:
    """What a body says: the username keys it names, and whether it says @everyone."""
    keys: frozenset[str]
    everyone: bool


def find(body: str) -> Found:
    keys, everyone = [], False
    for name in mention_names(body):
        key = mention_key(name)
        if key == EVERYONE:
            everyone = True
        elif usernames.MIN_LENGTH <= len(key) <= usernames.MAX_LENGTH and key not in keys:
            keys.append(key)
    return Found(frozenset(keys[:NAMES_LIMIT]), everyone)


async def check_everyone(actor: User, conversation: Conversation, found: Found, confirmed: bool,
                         *, before: Found | None = None) -> None:
    """@everyone where it is turned off is refused; in a big room, unless confirmed. An edit is
    asked only when it adds @everyone (`before`: what the message said until now)."""
    if not found.everyone or (before is not None and before.everyone):
        return
    if conversation.is_room and not conversation.everyone_allowed:
        raise Invalid({"body": EVERYONE_OFF.format(room=conversation.name)})
    if conversation.is_room and not confirmed:
        count = await Membership.filter(conversation_id=conversation.id).count()
        if count > EVERYONE_CONFIRM_ABOVE:
            raise Invalid({"confirm_everyone": CONFIRM_EVERYONE.format(count=count - 1, room=conversation.name)})


@dataclass
class Targets:
    """Whom a message mentions: user id -> reached by @everyone only; and the username keys it
    names -> their ids (what the text highlights)."""
    people: dict[int, bool]
    named: dict[str, int]


async def targets(actor: User, conversation: Conversation, found: Found,
                  may_read: Callable[[Conversation, Membership | None], bool]) -> Targets:
    people: dict[int, bool] = {}
    named: dict[str, int] = {}
    if found.everyone:
        ids = await Membership.filter(conversation_id=conversation.id).values_list("user_id", flat=True)
        people = {uid: True for uid in ids if uid != actor.id}
    if found.keys:
        rows = await User.filter(username_key__in=list(found.keys)).values_list("id", "username_key")
        members = {m.user_id: m for m in await Membership.filter(
            conversation_id=conversation.id, user_id__in=[uid for uid, _ in rows])}
        for uid, key in rows:
            if uid != actor.id and may_read(conversation, members.get(uid)):
                people[uid] = False  # named: more than @everyone
                named[key] = uid
    return Targets(people, named)


def attach(message: Message, found: Targets) -> None:
    """What app/chat/events.py shows of the message's mentions, without reading them back."""
    message.mention_ids = sorted(found.people)
    message.mentioned = dict(found.named)


async def record(message: Message, found: Targets) -> None:
    """A new message's rows (inside its transaction)."""
    if found.people:
        await Mention.bulk_create([
            Mention(message_id=message.id, user_id=uid, conversation_id=message.conversation_id, seq=message.seq,
                    everyone=everyone) for uid, everyone in found.people.items()])
    attach(message, found)


async def update(message: Message, found: Targets) -> tuple[set[int], set[int]]:
    """An edited message's rows (inside its transaction): who is newly mentioned, who no longer."""
    existing = {row.user_id: row for row in await Mention.filter(message_id=message.id)}
    added, removed = set(found.people) - set(existing), set(existing) - set(found.people)
    if removed:
        await Mention.filter(message_id=message.id, user_id__in=sorted(removed)).delete()
    for uid in set(found.people) & set(existing):
        if existing[uid].everyone != found.people[uid]:
            await Mention.filter(id=existing[uid].id).update(everyone=found.people[uid])
    await record(message, Targets({uid: found.people[uid] for uid in added}, {}))
    attach(message, found)
    return added, removed


async def remove_all(message: Message) -> set[int]:
    """A deleted message mentions nobody any more (inside its transaction): who it did mention."""
    ids = set(await Mention.filter(message_id=message.id).values_list("user_id", flat=True))
    if ids:
        await Mention.filter(message_id=message.id).delete()
    attach(message, Targets({}, {}))
    return ids


async def unread_among(conversation_id: int, seq: int, user_ids: Iterable[int]) -> set[int]:
    """Those of these people for whom a mention at `seq` counts as unread: members who have not
    read that far (someone reading an open room without being in it has no place to keep)."""
    ids = sorted(set(user_ids))
    if not ids:
        return set()
    return set(await Membership.filter(conversation_id=conversation_id, user_id__in=ids,
                                       last_read_seq__lt=seq).values_list("user_id", flat=True))


# --- reading them -------------------------------------------------------------------------------

async def unread_counts(user_id: int) -> dict[int, int]:
    """Per conversation of the user's: mentions of them above what they have read (from
    last_read_seq, like unread messages). One query, each count a range of (user, conversation, seq)."""
    rows = await reads.rows("""
        SELECT mn.conversation_id AS conversation_id, COUNT(*) AS n
        FROM mentions mn
        JOIN memberships m ON m.conversation_id = mn.conversation_id AND m.user_id = mn.user_id
        WHERE mn.user_id = ? AND mn.seq > m.last_read_seq
        GROUP BY mn.conversation_id""", [user_id])
    return {row["conversation_id"]: int(row["n"]) for row in rows}


async def unread_total(user_id: int) -> int:
    """All of the user's unread mentions: the header's badge."""
    return sum((await unread_counts(user_id)).values())


@dataclass
class Item:
    """One mention on /mentions: the message (its conversation set), whether it is unread, and
    whether it came by @everyone. `id` is the cursor of the page after it."""
    id: int
    message: Message
    unread: bool
    everyone: bool


async def page(user: User, *, before: int | None, size: int,
               may_read: Callable[[Conversation, Membership | None], bool]) -> tuple[list[Item], int | None]:
    """The user's mentions, newest first (by when they were mentioned), below mention id
    `before`, only in conversations they may read now; and the cursor of the next page or None.
    Rows of conversations they may no longer read are passed over (read in batches until a page
    is full), so the rule is asked here exactly as the conversation page asks it."""
    found: list[Item] = []
    cursor = before
    batch = size + 1
    while len(found) <= size:
        rows = await reads.rows(
            f"SELECT mn.id AS mention_id, mn.everyone AS mention_everyone, {reads.columns(Message, 'msg', 'msg_')}, "
            f"{reads.columns(Conversation, 'c', 'c_')}, {reads.columns(Membership, 'm', 'm_')}, "
            f"{reads.columns(Conversation, 'p', 'p_')}, pm.id AS pm_id FROM mentions mn "
            "JOIN messages msg ON msg.id = mn.message_id JOIN conversations c ON c.id = mn.conversation_id "
            "LEFT JOIN memberships m ON m.conversation_id = mn.conversation_id AND m.user_id = mn.user_id "
            # a thread's: read by its parent's rule (the parent, and the user's membership there)
            "LEFT JOIN conversations p ON p.id = c.parent_id "
            "LEFT JOIN memberships pm ON pm.conversation_id = p.id AND pm.user_id = mn.user_id "
            "WHERE mn.user_id = ? AND msg.deleted_at IS NULL" + (" AND mn.id < ?" if cursor is not None else "")
            + " ORDER BY mn.id DESC LIMIT ?", [user.id, *([cursor] if cursor is not None else []), batch])
        for row in rows:
            conversation = reads.instance(Conversation, row, "c_")
            member = reads.instance(Membership, row, "m_") if row["m_id"] is not None else None
            if conversation.is_thread:
                if row["p_id"] is None or not may_read(reads.instance(Conversation, row, "p_"), row["pm_id"]):
                    continue
            elif not may_read(conversation, member):
                continue
            message = reads.instance(Message, row, "msg_")
            message.conversation = conversation
            unread = member is not None and message.seq > member.last_read_seq
            found.append(Item(row["mention_id"], message, unread, bool(row["mention_everyone"])))
        if len(rows) < batch:
            break
        cursor = rows[-1]["mention_id"]
    shown = found[:size]
    return shown, (shown[-1].id if len(found) > size else None)
