"""A file's preview became ready (or will never be): every message showing it changes, like an
edit. Each takes its conversation's next number in a transaction of its own and is published as
`message.edited`, so pages swap the thumbnail in live, and a page or program that was away gets
the very same event when it catches up (app/chat/live.py replays version_seq > what it had)."""
from __future__ import annotations

from tortoise.transactions import in_transaction

from app import signals
from app.chat import events
from app.models import Conversation, Message, reads


async def preview_ready(blob_id: int) -> None:
    """signals.preview_ready's receiver (sent by app/files/worker.py after its commit): the messages
    showing the file, and those whose link preview shows it as its image."""
    rows = await reads.rows(
        "SELECT DISTINCT a.message_id AS id FROM attachments a JOIN messages m ON m.id = a.message_id "
        "WHERE a.blob_id = ? AND m.deleted_at IS NULL "
        "UNION SELECT l.message_id FROM link_previews l JOIN messages m ON m.id = l.message_id "
        "WHERE l.image_id = ? AND l.state = 'ready' AND m.deleted_at IS NULL", [blob_id, blob_id])
    for row in rows:
        await renumber(row["id"])


async def renumber(message_id: int) -> None:
    """The message's next version: the conversation's next number, unless it was deleted meanwhile."""
    message = await Message.get_or_none(id=message_id)
    if message is None:
        return
    async with in_transaction() as conn:
        seq = await next_version(conn, message)
    if seq is not None:
        message.version_seq = seq
        await events.message_changed(message, "message.edited")


async def next_version(conn, message: Message) -> int | None:
    """In the caller's transaction: the message takes its conversation's next number, which this
    answers (None if the message was deleted). Publish it after commit (events.message_changed)."""
    seq = await Conversation.next_seq(conn, message.conversation_id)  # a delete takes this lock first too
    changed = await Message.filter(id=message.id, deleted_at__isnull=True).using_db(conn).update(version_seq=seq)
    return seq if changed else None


def subscribe() -> None:
    """At start-up: chat follows what files announce (app/signals.py)."""
    signals.preview_ready.connect(preview_ready)
