"""Messages: posting (limited per person, idempotent by client_id), editing, deleting, and the
read position (read up to, mark unread from) with the unread counts it gives. Each change takes
the conversation's next number in its transaction, writes its search index and mention rows
there, and is published after commit (app/chat/events.py)."""
from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app import clock, signals
from app.chat import events, link_previews, mentions, replies, threads, user_events
from app.chat.access import may_post, may_read, membership
from app.chat.conversations import open_direct
from app.domain import Invalid, NotAllowed, NotFound, RateLimited, check_text
from app.files import service as files
from app.models import Attachment, AuditEvent, Conversation, Membership, Message, User, reads
from app.models import search as search_index
from app.runtime import runtime

UNREAD_CAP = 100  # counted up to here, shown as "99+"
# Posts per user are limited (HUDDLE_POSTS_PER_10_SECONDS): every door's post comes through post()
# below, so the composer, a first direct message, the REST API and both websockets alike.
POSTING_TOO_FAST = "You are sending very fast: wait {wait} s, then send again."


async def send_direct(actor: User, usernames: list[str], text: str, client_id: str | None = None, *,
                      attachments: list | None = None) -> Message:
    """Start (or continue) a direct conversation with its first message: nothing is made before
    (nor when the sender is over the posting limit; post() then counts the message)."""
    body = check_body(text, files.check_ids(attachments or []))
    if wait := await runtime().limiters.post_user.retry_after(str(actor.id)):
        raise RateLimited(POSTING_TOO_FAST.format(wait=wait), wait)
    conversation = await open_direct(actor, usernames)
    return await post(actor, conversation, body, client_id, attachments=attachments)


# --- messages -----------------------------------------------------------------------------------

def check_body(text: str, attachments: list[int] = ()) -> str:
    """The text as kept; it may be empty when files go with it, not both."""
    body = (text or "").replace("\r\n", "\n").strip()
    if not body and not attachments:
        raise Invalid({"body": "Write something first."})
    check_text(body=body)
    if len(body) > Message.MAX_LENGTH:
        raise Invalid({"body": f"Keep a message to {Message.MAX_LENGTH:,} characters (this one has {len(body):,})."})
    return body


def check_not_archived(conversation: Conversation) -> None:
    """An archived room is read-only: nobody posts or edits there (the text is kept, by the field)."""
    if conversation.archived_at is not None:  # (a thread is archived with its room: it has no name)
        where = f"#{conversation.name}" if conversation.name else "This thread's room"
        raise Invalid({"body": f"{where} is archived: it is read-only."})


def check_client_id(client_id: str | None) -> str | None:
    if not client_id:
        return None
    if len(client_id) > 64 or not all(ch.isalnum() or ch in "-_" for ch in client_id):
        raise Invalid({"client_id": "That message id is not valid."})
    return client_id


async def post(actor: User, conversation: Conversation, text: str, client_id: str | None = None, *,
               confirm_everyone: bool = False, attachments: list | None = None, reply_to: object = None) -> Message:
    """A new message from a member, counted against their posting limit (RateLimited past it);
    the same client_id again returns the first one (a retry, not counted). Whom it mentions is
    stored with it (app/chat/mentions.py: @everyone refused where it is off, and in a big room
    unless confirm_everyone). `attachments`: ids of the actor's uploads not sent yet, which become
    the message's in its transaction (all of them, or Invalid). `reply_to`: the id of the message
    it answers, of this conversation (app/chat/replies.py; its author is mentioned)."""
    ids = files.check_ids(attachments or [])
    body = check_body(text, ids)
    client_id = check_client_id(client_id)
    # Its members post; in a thread, its parent's (rule: the parent conversation, else itself).
    if (rule := await may_post(actor, conversation)) is None:
        raise NotFound("Join this room to read and post in it.")
    if client_id and (earlier := await Message.get_or_none(conversation_id=conversation.id, client_id=client_id)):
        return earlier
    check_not_archived(conversation)
    original = await replies.original(conversation, reply_to)
    said = mentions.find(body)
    await mentions.check_everyone(actor, rule, said, confirm_everyone)
    mentioned = await mentions.targets(actor, rule, said, may_read)
    await replies.mention_original(actor, conversation, original and original.id, mentioned)
    await runtime().limiters.post_user.spend(str(actor.id), POSTING_TOO_FAST)
    try:
        async with in_transaction() as conn:
            seq = await Conversation.next_seq(conn, conversation.id)
            # Archived meanwhile? (The row is locked now: an archive commits before or after.)
            check_not_archived(await Conversation.get(id=conversation.id).using_db(conn))
            message = await Message.create(
                conversation_id=conversation.id, author=actor, author_name=actor.username, body=body,
                seq=seq, version_seq=seq, client_id=client_id, reply_to_id=original and original.id,
            )
            await files.attach(conn, actor, message.id, ids)
            await search_index.index(conn, message.id, conversation.id, body)
            await mentions.record(message, mentioned)
            linked = await link_previews.on_post(conn, message.id, body)  # fetched by a job, never here
            # A thread's replier and whom it mentions follow it (the parent's author from the first reply).
            followers = await threads.reply_followers(conn, conversation, rule, actor, mentioned.people, seq)
            # What I post, I have read.
            await Membership.filter(user_id=actor.id, conversation_id=conversation.id).update(last_read_seq=seq)
    except IntegrityError:
        if client_id and (earlier := await Message.get_or_none(conversation_id=conversation.id, client_id=client_id)):
            return earlier  # the retry raced the first attempt
        raise
    message.conversation = conversation
    # Nothing yet to look up of what comes later, each with its own numbered event: its preview
    # (a job makes it after this answer), reactions and a thread (no one has seen it yet).
    message.link_preview, message.reaction_list, message.thread_summary = None, [], None
    await link_previews.settle(linked)
    await events.message_changed(message, "message.created")
    await threads.replied(conversation, followers)
    people = set(mentioned.people)
    counted = await mentions.unread_among(conversation.id, message.seq, people)
    await user_events.mentions_changed(message, counted, people)
    await signals.message_posted.send(message, people)
    return message


async def get_message(actor: User, message_id: int) -> Message:
    """A message in one of the actor's conversations (404 otherwise, deleted ones too)."""
    message = await Message.get_or_none(id=message_id, deleted_at__isnull=True).select_related("conversation")
    if message is None or await may_post(actor, message.conversation) is None:  # a thread: its parent's members
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
    body = check_body(text, await Attachment.filter(message_id=message.id).values_list("id", flat=True))
    conversation = await Conversation.get(id=message.conversation_id)
    check_not_archived(conversation)
    if body == message.body:
        return message
    said = mentions.find(body)
    rule = await may_post(actor, conversation) or conversation  # a thread: its parent's rule
    await mentions.check_everyone(actor, rule, said, confirm_everyone, before=mentions.find(message.body))
    mentioned = await mentions.targets(actor, rule, said, may_read)
    await replies.mention_original(actor, conversation, message.reply_to_id, mentioned)  # still a reply
    async with in_transaction() as conn:
        seq = await Conversation.next_seq(conn, message.conversation_id)
        message.body, message.version_seq, message.edited_at = body, seq, clock.now()
        await message.save(update_fields=["body", "version_seq", "edited_at"])
        await search_index.reindex(conn, message.id, body)  # found by its new words only
        added, removed = await mentions.update(message, mentioned)
        linked = await link_previews.on_edit(conn, message.id, body)
        if conversation.is_thread:  # whom a thread's reply mentions now follows it
            await threads.add_followers(conn, conversation, added, message.seq - 1)
        # Whose badges count the change (unread for them): asked where the rows changed.
        counted = await mentions.unread_among(message.conversation_id, message.seq, added | removed)
    message.conversation = conversation
    await link_previews.settle(linked)
    await events.message_changed(message, "message.edited")
    await user_events.mentions_changed(message, counted & added, added)
    await user_events.mentions_changed(message, counted & removed, removed, removed=True)
    if added:
        await signals.mentions_added.send(message, added)
    await replies.original_changed(message)  # its replies quote the new words
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
        # Its files go for everyone: the rows now, the stored files once nothing else uses them.
        blob_ids = await Attachment.filter(message_id=message.id).using_db(conn).values_list("blob_id", flat=True)
        await Attachment.filter(message_id=message.id).using_db(conn).delete()
        linked = await link_previews.on_delete(conn, message.id)
        counted = await mentions.unread_among(message.conversation_id, message.seq, mentioned)
        if message.author_id != actor.id:
            await AuditEvent.record(actor, "message.deleted", None, author=message.author_name)
    await events.message_changed(message, "message.deleted")
    await threads.reply_gone(message.conversation_id)
    await user_events.mentions_changed(message, counted, mentioned, removed=True)
    await files.release(blob_ids)
    await link_previews.settle(linked)
    await replies.original_changed(message)  # its replies say it is deleted
    return message


async def mark_read(actor: User, conversation: Conversation, seq: int | None = None, *,
                    member: Membership | None = None, touch: bool = True) -> int:
    """Read up to seq (default: everything); never moves backwards. All the user's tabs hear it.
    A caller that has just loaded the conversation and the actor's membership passes the latter,
    and the conversation's number as loaded bounds seq (a page shows what it loaded)."""
    if member is None:
        member = await membership(actor, conversation.id)
        if member is None and conversation.is_thread:
            return 0  # a reader who does not follow the thread: nothing is kept
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
    await user_events.read(actor.id, conversation.id, member.last_read_seq, unread,
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
    await user_events.read(actor.id, message.conversation_id, member.last_read_seq, unread,
                           mentions=await mentions.unread_counts(actor.id))
    return member.last_read_seq



# --- unread --------------------------------------------------------------------------------------

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
