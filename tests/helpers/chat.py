"""Filling conversations in tests: people in #general (`welcomed`), a message posted (`posted`), a
closed room with one message (`closed_room_with`). The chat service counts every post against the
posting limit (HUDDLE_POSTS_PER_10_SECONDS, 20 by default), so a test that writes a long history
through it lifts the limit first. A history of 120 messages is not a flood."""
from __future__ import annotations

from app.chat import service
from app.models import Conversation, Message, User
from app.runtime import Runtime


def lift_posting_limit(app, limit: int = 1_000_000) -> None:
    Runtime.of(app).limiters.post_user.limit = limit


async def welcomed(*people: User) -> Conversation:
    """Each person welcomed (into #general, as registering does), in an app context: #general."""
    for person in people:
        await service.welcome(person)
    return await service.general()


async def posted(app, author: User, conversation: Conversation, body: str, **options) -> Message:
    """author's message, posted through the chat service."""
    async with app.app_context():
        return await service.post(author, conversation, body, **options)


async def closed_room_with(app, owner: User, body: str, name: str = "secret") -> tuple[Conversation, Message]:
    """A closed room of owner's (nobody else in it) and a message of theirs in it."""
    async with app.app_context():
        room = await service.create_room(owner, name, is_open=False)
        return room, await service.post(owner, room, body)
