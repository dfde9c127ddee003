"""Threads: a message's replies in a child conversation of its own (Conversation kind THREAD, one
per message: parent_message_id is unique), so numbering, exact catch-up, unread, mentions,
notification levels and search work there as anywhere.

- Access is the parent's (app/chat/access.py): whoever may read the parent conversation reads
  the thread; its members post, react and edit there (not in an archived room). No thread in a
  thread.
- A thread's memberships are its FOLLOWERS: who replied (app/chat/messages.py post), who was
  mentioned there, the parent's author from the first reply, and whoever follows it by hand.
  Following is not access: leaving the parent room ends the follows (app/chat/conversations.py).
- The parent shows a summary (app/chat/thread_lists.py); a reply posted or deleted gives the
  parent message its conversation's next number (summary_changed), so it is published and
  replayed like an edit."""
from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from app.chat import user_events
from app.chat.access import may_read, visible
from app.chat.previews import renumber
from app.chat.thread_lists import ThreadSummary, summaries, thread_lists  # noqa: F401 - the loader, for callers
from app.domain import Invalid, NotFound
from app.models import THREAD, Conversation, Membership, Message, User, reads
from app.models.chat import readable

NO_SUCH_MESSAGE = "That message does not exist, or was deleted."
NO_THREAD_IN_THREAD = "This message is in a thread already: reply in that thread."
NO_SUCH_THREAD = "There is no such thread, or you cannot read it."


async def open_thread(actor: User, message_id: int) -> Conversation:
    """The thread of a message the actor may read, made on first use (race-safe: one per message).
    NotFound for a message they may not read or that was deleted; Invalid for one in a thread.
    Making it publishes nothing: there is no reply yet."""
    message = await Message.get_or_none(id=message_id, deleted_at__isnull=True)
    if message is None:
        raise NotFound(NO_SUCH_MESSAGE)
    try:
        conversation, _ = await visible(actor, message.conversation_id)
    except NotFound:
        raise NotFound(NO_SUCH_MESSAGE) from None
    if conversation.is_thread:
        raise Invalid({"message": NO_THREAD_IN_THREAD})
    found = await Conversation.get_or_none(parent_message_id=message.id)
    if found is not None:
        return found
    try:
        # Read-only with its room: an archived room's threads are archived too (room_changes.py).
        return await Conversation.create(kind=THREAD, parent_message_id=message.id, parent_id=conversation.id,
                                         created_by=actor, archived_at=conversation.archived_at)
    except IntegrityError:  # opened at the same moment by someone else
        return await Conversation.get(parent_message_id=message.id)


async def thread_of(actor: User, thread_id: int) -> tuple[Conversation, Message, Conversation, Membership | None]:
    """(the thread, its parent message, the parent conversation, the actor's follow or None),
    if the actor may read it (NotFound otherwise)."""
    try:
        thread, follow = await visible(actor, thread_id)
    except NotFound:
        raise NotFound(NO_SUCH_THREAD) from None
    if not thread.is_thread:
        raise NotFound(NO_SUCH_THREAD)
    message = await Message.get(id=thread.parent_message_id)
    message.conversation = thread.parent
    return thread, message, thread.parent, follow


async def follow(actor: User, thread_id: int, on: bool) -> Membership | None:
    """Follow a thread one may read (from now: what is there is read), or stop following it.
    The follow row (None when not following). Their sockets start or stop hearing it."""
    thread, _, _, member = await thread_of(actor, thread_id)
    if on and member is None:
        member, _ = await Membership.get_or_create(user_id=actor.id, conversation_id=thread.id,
                                                   defaults={"last_read_seq": thread.last_seq})
        await user_events.membership_changed(thread, [actor.id])
    elif not on and member is not None:
        await Membership.filter(id=member.id).delete()
        member = None
        await user_events.membership_changed(thread, [actor.id])
    return member


async def add_followers(conn, thread: Conversation, user_ids, read_up_to: int) -> list[int]:
    """Make these people followers (inside the caller's transaction), with everything up to
    `read_up_to` read. Those who were not following before."""
    ids = sorted(set(user_ids))
    if not ids:
        return []
    there = set(await Membership.filter(conversation_id=thread.id, user_id__in=ids).using_db(conn)
                .values_list("user_id", flat=True))
    new = [uid for uid in ids if uid not in there]
    if new:
        await Membership.bulk_create([Membership(conversation_id=thread.id, user_id=uid, last_read_seq=read_up_to)
                                      for uid in new], ignore_conflicts=True, using_db=conn)
    return new


async def reply_followers(conn, conversation: Conversation, parent: Conversation, actor: User, mentioned,
                          seq: int) -> list[int]:
    """Inside the transaction posting message `seq` in `conversation` (nothing unless a thread):
    the replier follows (it is read for them), so do the people it mentions and, at the first
    reply, the parent message's author, if they may read it (it is unread for them). Those who
    follow now and did not before."""
    if not conversation.is_thread:
        return []
    new = await add_followers(conn, conversation, [actor.id], seq)
    others = set(mentioned) - {actor.id}
    if seq == 1:  # the first reply
        author_id = await Message.filter(id=conversation.parent_message_id).using_db(conn).values_list(
            "author_id", flat=True)
        if author_id and author_id[0] is not None and author_id[0] != actor.id:
            member = await Membership.filter(conversation_id=parent.id, user_id=author_id[0]).using_db(conn).first()
            if may_read(parent, member):
                others.add(author_id[0])
    return new + await add_followers(conn, conversation, others, seq - 1)


async def replied(conversation: Conversation, followers: list[int]) -> None:
    """After a reply's commit (nothing unless a thread): the parent shows the new summary, and the
    new followers' sockets start hearing the thread."""
    if not conversation.is_thread:
        return
    await summary_changed(conversation)
    if followers:
        await user_events.membership_changed(conversation, followers)


async def reply_gone(conversation_id: int) -> None:
    """After a message's deletion: if it was a thread's reply, the parent's summary changed."""
    thread = await Conversation.get_or_none(id=conversation_id, kind=THREAD)
    if thread is not None:
        await summary_changed(thread)


async def summary_changed(thread: Conversation) -> None:
    """A reply came or went: the parent message shows a new summary, as a new version."""
    await renumber(thread.parent_message_id)


# --- the Threads view ---------------------------------------------------------------------------

@dataclass
class ThreadItem:
    thread: Conversation
    message: Message          # the parent message (its conversation set)
    parent: Conversation      # the room or direct it is in
    unread: int
    mentions: int
    summary: ThreadSummary
    member: Membership        # the actor's follow (read position, notify level)


async def followed(actor: User, *, limit: int = 50) -> list[ThreadItem]:
    """The threads the actor follows and may read now: unread ones first, then by latest reply."""
    rows = (await _followed_rows(actor))[:limit]
    found = await summaries([row["t_id"] for row in rows])
    parents = {m.id: m for m in await Message.filter(id__in=[row["t_parent_message_id"] for row in rows])}
    items = []
    for row in rows:
        thread, parent = reads.instance(Conversation, row, "t_"), reads.instance(Conversation, row, "p_")
        message = parents.get(thread.parent_message_id)
        if message is None:
            continue
        message.conversation = parent
        items.append(ThreadItem(thread, message, parent, int(row["unread"]), int(row["mentions"]),
                                found[thread.id], reads.instance(Membership, row, "m_")))
    return items


async def followed_counts(actor: User) -> tuple[int, int]:
    """(threads with unread replies, unread mentions in threads) of the actor's followed threads
    that they may read: the sidebar's one "Threads" entry (one query)."""
    rows = await _followed_rows(actor)
    return sum(1 for row in rows if int(row["unread"])), sum(int(row["mentions"]) for row in rows)


async def _followed_rows(actor: User) -> list[dict]:
    """The actor's follows with their threads, parents, unread and mention counts, in order."""
    rows = await reads.rows(
        f"SELECT {reads.columns(Membership, 'm', 'm_')}, {reads.columns(Conversation, 't', 't_')}, "
        f"{reads.columns(Conversation, 'p', 'p_')}, pm.id AS pm_id, "
        "(SELECT COUNT(*) FROM messages r WHERE r.conversation_id = t.id AND r.seq > m.last_read_seq "
        " AND r.deleted_at IS NULL AND (r.author_id IS NULL OR r.author_id <> m.user_id)) AS unread, "
        "(SELECT COUNT(*) FROM mentions mn WHERE mn.conversation_id = t.id AND mn.user_id = m.user_id "
        " AND mn.seq > m.last_read_seq) AS mentions, "
        "(SELECT MAX(r.id) FROM messages r WHERE r.conversation_id = t.id AND r.deleted_at IS NULL) AS last_id "
        "FROM memberships m JOIN conversations t ON t.id = m.conversation_id AND t.kind = ? "
        "JOIN conversations p ON p.id = t.parent_id "
        "LEFT JOIN memberships pm ON pm.conversation_id = p.id AND pm.user_id = m.user_id "
        "WHERE m.user_id = ?", [THREAD, actor.id])
    rows = [row for row in rows if readable(row["p_kind"], row["p_is_open"], row["pm_id"] is not None)]
    rows.sort(key=lambda row: (int(row["unread"]) == 0, -(row["last_id"] or 0), -row["t_id"]))
    return rows


async def forget_follows(parent: Conversation, user_ids=None) -> None:
    """People who can no longer read the parent conversation lose its threads' follows: these
    people (they left it or were removed), or (None) everyone not a member (it was closed). Their
    sockets stop hearing those threads."""
    rows = await reads.rows(
        "SELECT m.id AS id, m.user_id AS user_id, m.conversation_id AS thread_id FROM memberships m "
        "JOIN conversations t ON t.id = m.conversation_id WHERE t.parent_id = ? AND t.kind = ?", [parent.id, THREAD])
    if user_ids is not None:
        gone = set(user_ids)
        rows = [row for row in rows if row["user_id"] in gone]
    else:
        members = set(await Membership.filter(conversation_id=parent.id).values_list("user_id", flat=True))
        rows = [row for row in rows if row["user_id"] not in members]
    if not rows:
        return
    await Membership.filter(id__in=[row["id"] for row in rows]).delete()
    by_thread: dict[int, list[int]] = {}
    for row in rows:
        by_thread.setdefault(row["thread_id"], []).append(row["user_id"])
    for thread in await Conversation.filter(id__in=list(by_thread)):
        await user_events.membership_changed(thread, by_thread[thread.id])
