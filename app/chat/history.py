"""Reading a conversation's messages: pages of history (keyset by number, newest first or oldest
first), the stretch around one message, and every change after an event number (catch-up).
Membership is checked by the callers (app/chat/service.py re-exports these for them)."""
from __future__ import annotations

from app.domain import NotFound
from app.models import Conversation, Message, reads

PAGE = 50


async def history(
    conversation: Conversation, *, before: int | None = None, size: int = PAGE
) -> tuple[list[Message], bool]:
    """The newest `size` messages before message id `before` (keyset), oldest first, and whether
    there are older ones."""
    query = Message.filter(conversation_id=conversation.id, deleted_at__isnull=True)
    if before is not None:
        query = query.filter(seq__lt=before)
    rows = await query.order_by("-seq").limit(size + 1)
    return list(reversed(rows[:size])), len(rows) > size


async def history_rows(
    conversation: Conversation, *, before: int | None = None, size: int = PAGE
) -> tuple[list[dict], bool]:
    """history() for a page that shows cached fragments: light rows (id, seq, version_seq,
    author_id), oldest first, and whether there are older ones."""
    # Plain SQL: the hottest read of a conversation page (the fragments come from a cache).
    rows = await reads.rows(
        "SELECT id, seq, version_seq, author_id FROM messages WHERE conversation_id = ? AND deleted_at IS NULL"
        + (" AND seq < ?" if before is not None else "") + " ORDER BY seq DESC LIMIT ?",
        [conversation.id, *([before] if before is not None else []), size + 1])
    return list(reversed(rows[:size])), len(rows) > size


async def newest_first(
    conversation: Conversation, *, before: int | None = None, after: int | None = None, size: int = PAGE
) -> tuple[list[Message], int | None]:
    """For programs: up to `size` messages, newest first, numbered below `before` and above
    `after` (with `after`, the first `size` after it: reading forward). Also the number to page
    back from (`before=`) if older messages remain, else None."""
    query = Message.filter(conversation_id=conversation.id, deleted_at__isnull=True)
    if before is not None:
        query = query.filter(seq__lt=before)
    if after is not None:
        rows = list(reversed(await query.filter(seq__gt=after).order_by("seq").limit(size)))
        more = bool(rows) and await query.filter(seq__lt=rows[-1].seq).exists()
    else:
        rows = list(await query.order_by("-seq").limit(size + 1))
        more, rows = len(rows) > size, rows[:size]
    return rows, rows[-1].seq if more else None


async def around(conversation: Conversation, message_id: int, size: int = PAGE) -> tuple[list[Message], bool]:
    target = await Message.get_or_none(id=message_id, conversation_id=conversation.id, deleted_at__isnull=True)
    if target is None:
        raise NotFound("That message does not exist, or was deleted.")
    older, more = await history(conversation, before=target.seq + 1, size=size // 2)
    newer = await Message.filter(conversation_id=conversation.id, deleted_at__isnull=True,
                                 seq__gt=target.seq).order_by("seq").limit(size // 2)
    return older + list(newer), more


async def preview(conversation: Conversation, *, around_id: int | None = None) -> tuple[list, bool]:
    """What an open room shows someone not in it (read-only; paging is for members): its latest
    messages, or for a permalink the stretch around that message, as a member sees it (NotFound
    if it is not one of this room's). Also whether newer messages remain (the page links to them)."""
    if around_id is None:
        return (await history_rows(conversation))[0], False
    messages, _ = await around(conversation, around_id)
    return messages, bool(messages) and await has_newer(conversation, messages[-1].seq)


async def changes_since(conversation_id: int, after: int, limit: int = 500) -> list[Message]:
    """Every message changed (posted, edited, deleted) after event number `after`, in order."""
    return await Message.filter(conversation_id=conversation_id, version_seq__gt=after).order_by(
        "version_seq").limit(limit)


async def newer_rows(
    conversation: Conversation, *, after: int, size: int = PAGE
) -> tuple[list[dict], bool]:
    """Reading forward: light rows of the first `size` messages numbered above `after`, oldest
    first, and whether there are newer ones still."""
    rows = await reads.rows(
        "SELECT id, seq, version_seq, author_id FROM messages WHERE conversation_id = ? AND deleted_at IS NULL"
        " AND seq > ? ORDER BY seq LIMIT ?", [conversation.id, after, size + 1])
    return rows[:size], len(rows) > size


async def from_unread(
    conversation: Conversation, last_read_seq: int, *, context: int = 5, size: int = PAGE
) -> tuple[list[dict], bool, bool]:
    """A page opened at the first unread: a few read messages above it for context, then the
    first `size` after `last_read_seq`. Also whether older ones and newer ones remain."""
    # One query for both sides (each ordered and limited in its own subquery), one past each limit.
    rows = await reads.rows(
        "SELECT * FROM (SELECT id, seq, version_seq, author_id FROM messages WHERE conversation_id = ?"
        " AND deleted_at IS NULL AND seq <= ? ORDER BY seq DESC LIMIT ?) AS older UNION ALL"
        " SELECT * FROM (SELECT id, seq, version_seq, author_id FROM messages WHERE conversation_id = ?"
        " AND deleted_at IS NULL AND seq > ? ORDER BY seq LIMIT ?) AS newer",
        [conversation.id, last_read_seq, context + 1, conversation.id, last_read_seq, size + 1])
    older = sorted((r for r in rows if r["seq"] <= last_read_seq), key=lambda r: r["seq"])
    newer = sorted((r for r in rows if r["seq"] > last_read_seq), key=lambda r: r["seq"])
    return (older[-context:] if context else []) + newer[:size], len(older) > context, len(newer) > size


async def has_newer(conversation: Conversation, seq: int) -> bool:
    return await Message.filter(conversation_id=conversation.id, deleted_at__isnull=True, seq__gt=seq).exists()
