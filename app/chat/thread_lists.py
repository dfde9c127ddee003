"""A message's thread as it shows under it: "4 replies · last 2 min ago · ada, bob". Loaded for
many messages in one go (as mention, attachment and reaction lists are), for the fragment and for
programs (`thread` in message_data). A thread with no reply (opened, never answered) shows nothing.

The summary is part of what the message shows: after a reply is posted or deleted, the parent
message takes its conversation's next number (app/chat/threads.py summary_changed), so the render
caches, the live pages and every catch-up get it again."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.models import Message, names, reads
from app.models.names import Label

REPLIERS = 3  # the latest distinct repliers shown


@dataclass(frozen=True)
class ThreadSummary:
    thread_id: int
    replies: int
    last_reply_at: datetime | None
    repliers: list[Label]  # the latest distinct repliers first, at most REPLIERS


async def summaries(thread_ids: list[int]) -> dict[int, ThreadSummary]:
    """Thread id -> its summary (threads without a reply included, with 0 replies)."""
    if not thread_ids:
        return {}
    marks = ", ".join("?" * len(thread_ids))
    counts = await reads.rows(
        "SELECT conversation_id AS thread_id, COUNT(id) AS replies, MAX(id) AS last_id FROM messages "
        f"WHERE conversation_id IN ({marks}) AND deleted_at IS NULL GROUP BY conversation_id", list(thread_ids))
    authors = await reads.rows(
        "SELECT conversation_id AS thread_id, author_id, MAX(id) AS latest FROM messages "
        f"WHERE conversation_id IN ({marks}) AND deleted_at IS NULL AND author_id IS NOT NULL "
        "GROUP BY conversation_id, author_id", list(thread_ids))
    last_ids = [row["last_id"] for row in counts if row["last_id"] is not None]
    when = dict(await Message.filter(id__in=last_ids).values_list("id", "created_at")) if last_ids else {}
    latest: dict[int, list[tuple[int, int]]] = {}
    for row in authors:
        latest.setdefault(row["thread_id"], []).append((int(row["latest"]), row["author_id"]))
    chosen = {tid: [uid for _, uid in sorted(found, reverse=True)[:REPLIERS]] for tid, found in latest.items()}
    labels = await names.labels(uid for ids in chosen.values() for uid in ids)
    by_thread = {row["thread_id"]: row for row in counts}
    found = {}
    for tid in thread_ids:
        row = by_thread.get(tid)
        replies = int(row["replies"]) if row else 0
        found[tid] = ThreadSummary(tid, replies, when.get(row["last_id"]) if row else None,
                                   [labels[uid] for uid in chosen.get(tid, []) if uid in labels])
    return found


async def thread_lists(messages) -> None:
    """Give each message `thread_summary`: its thread's ThreadSummary if it has a reply, else None."""
    by_id = {m.id: m for m in messages}
    for message in by_id.values():
        message.thread_summary = None
    if not by_id:
        return
    threads = await reads.rows(
        f"SELECT id, parent_message_id FROM conversations WHERE parent_message_id IN ({', '.join('?' * len(by_id))})",
        list(by_id))
    found = await summaries([row["id"] for row in threads])
    for row in threads:
        summary = found[row["id"]]
        if summary.replies:
            by_id[row["parent_message_id"]].thread_summary = summary


def thread_data(message) -> dict | None:
    """For programs: {"conversation_id", "replies", "last_reply_at", "repliers": [usernames]} or None."""
    summary = getattr(message, "thread_summary", None)
    if summary is None or message.deleted_at is not None:
        return None
    return {"conversation_id": summary.thread_id, "replies": summary.replies,
            "last_reply_at": summary.last_reply_at.isoformat() if summary.last_reply_at else None,
            "repliers": [label.username for label in summary.repliers]}
