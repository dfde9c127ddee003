"""Announcements one feature makes and another acts on, so neither imports the other: accounts
says "a user was created"; chat, subscribed at start-up (create_app), puts them in #general. A
profile page asks what else to show of a person; feedback answers with theirs, to whom may see it.

A receiver is an async function; send() awaits each in the order they subscribed (after the
sender's transaction has committed) and returns their answers. Subscribing the same receiver
twice (a second app in one process, as the tests make) keeps one."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Receiver = Callable[..., Awaitable[Any]]


class Signal:
    def __init__(self, name: str) -> None:
        self.name = name
        self.receivers: list[Receiver] = []

    def connect(self, receiver: Receiver) -> Receiver:
        if receiver not in self.receivers:
            self.receivers.append(receiver)
        return receiver

    async def send(self, *args: Any) -> list[Any]:
        return [await receiver(*args) for receiver in self.receivers]


# send(user): a new account exists (registered, added by an administrator or on the command line).
user_created = Signal("user_created")
# send(user): an account was deleted (after commit; the User as it was): files deletes its picture.
account_deleted = Signal("account_deleted")
# send(viewer, person): each receiver answers a dict of what person's profile page shows viewer.
profile_shown = Signal("profile_shown")
# send(user_id, conversation_id, seq): a member's read position moved forward to seq (chat's
# mark_read, after commit); notify closes what it showed them of that conversation, on every device.
conversation_read = Signal("conversation_read")
# send(message, mentioned): a message was posted (chat's post, after commit; message.conversation
# is set); mentioned is the set of user ids it mentions (app/chat/mentions.py: @name, @everyone).
# notify decides from it who is told of the message.
message_posted = Signal("message_posted")
# send(message, added): an edit mentions these user ids newly (only them: those it mentioned
# before are not told again), after commit.
mentions_added = Signal("mentions_added")
# send(blob_id): a file's preview (thumbnail, large version) is ready, or will never be (the
# preview job, after commit); chat gives every message showing the file its next number and
# publishes it, so every page and program swaps the preview in, live or catching up.
preview_ready = Signal("preview_ready")
