"""The API's thread operations (REST app/api/rest_threads.py and the JSON websocket): thin steps
over app/chat/threads.py, answering with the API's shapes (app/api/schemas.py Conversation,
Thread). A thread's messages are read and posted as any conversation's (operations.py)."""
from __future__ import annotations

from app.api.operations import _conversation
from app.chat import threads
from app.chat.events import messages_data
from app.chat.messages import unread_counts_by_id
from app.models import Conversation, Membership, User


async def _answer(user: User, thread: Conversation, follow: Membership | None) -> dict:
    unread = (await unread_counts_by_id(user.id)).get(thread.id, 0) if follow is not None else 0
    return _conversation(thread, follow, unread, None)


async def open_thread(user: User, message_id: int) -> dict:
    """The thread of a message I may read (made on first use): the conversation to read and post in."""
    thread = await threads.open_thread(user, message_id)
    thread, _, _, follow = await threads.thread_of(user, thread.id)
    return await _answer(user, thread, follow)


async def follow(user: User, thread_id: int, on: bool) -> dict:
    """Follow a thread I may read (what is there is read), or stop: the thread as it is then."""
    await threads.follow(user, thread_id, on)
    thread, _, _, member = await threads.thread_of(user, thread_id)
    return await _answer(user, thread, member)


async def followed(user: User, limit: int = 50) -> list[dict]:
    """The threads I follow, unread ones first, then by latest reply."""
    items = await threads.followed(user, limit=max(1, min(int(limit), 100)))
    messages = await messages_data([item.message for item in items])
    return [{"conversation": _conversation(item.thread, item.member, item.unread, None), "message": message,
             "unread": item.unread, "mentions": item.mentions} for item, message in zip(items, messages, strict=True)]
