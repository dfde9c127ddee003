"""Conversations (rooms and direct conversations), who is in them, and their messages.

Every change to a conversation's messages (create, edit, delete) takes the conversation's next
sequence number, under that conversation's row lock, inside the change's transaction: numbers
are never shared and become visible in order, so a page that rendered up to N can ask for
everything after N and get it all (a global autoincrement id could commit out of order).
Deletions keep their number as tombstones.
"""
from __future__ import annotations

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from app import lookalikes
from app.models.user import User, _sql

ROOM, DIRECT, THREAD = "room", "direct", "thread"


class Conversation(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=8, default=ROOM)
    # Rooms: a name, unique case-insensitively (name_key); open to every member, or closed.
    name = fields.CharField(max_length=40, null=True)
    name_key = fields.CharField(max_length=40, null=True, unique=True)
    # Its two Unicode TR39 skeletons (app/lookalikes.py: case-folded, and as shown), unique so that
    # no room looks like another, even made at the same moment. NULL for directs, and where a
    # name already looked like an older room's when this rule came in (migration 7 kept both).
    name_skeleton = fields.CharField(max_length=40 * lookalikes.SKELETON_GROWTH, null=True, unique=True)
    name_shown_skeleton = fields.CharField(max_length=40 * lookalikes.SKELETON_GROWTH, null=True, unique=True)
    topic = fields.CharField(max_length=200, default="")
    is_open = fields.BooleanField(default=True)
    # Directs: the sorted member ids ("3,8,12"): exactly one conversation per set of people.
    direct_key = fields.CharField(max_length=200, null=True, unique=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seq = fields.BigIntField(default=0)
    # A room's header (name, topic, open or closed, archived) is a record of the conversation
    # too: each change takes the next number, and header_seq is its latest, so catch-up replays
    # the header as it is now when it changed after what the reader has (app/chat/live.py).
    header_seq = fields.BigIntField(default=0)
    # An archived room is read-only: nobody posts or edits; it leaves the sidebar's active list.
    archived_at = fields.DatetimeField(null=True)
    # A room's administrators may forbid @everyone in it.
    everyone_allowed = fields.BooleanField(default=True)
    # Threads: the message it answers (one thread per message) and that message's conversation,
    # whose rule says who reads and posts in the thread. Its memberships are its followers.
    # (A plain number, not a foreign key: conversations and messages would reference each other,
    # which no schema can create. Messages are never deleted but with their conversation, and a
    # room's threads go with it by `parent`.)
    parent_message_id = fields.BigIntField(null=True, unique=True)
    parent: fields.ForeignKeyNullableRelation[Conversation] = fields.ForeignKeyField(
        "models.Conversation", related_name=False, null=True, on_delete=fields.CASCADE, db_index=True
    )

    class Meta:
        table = "conversations"

    @property
    def is_room(self) -> bool:
        return self.kind == ROOM

    @property
    def is_thread(self) -> bool:
        return self.kind == THREAD

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @staticmethod
    def skeletons(name: str) -> tuple[str, str]:
        """What must be unique too, so that no room looks like another: the Unicode TR39
        skeletons of the case-folded name and of the name as shown (app/lookalikes.py)."""
        return lookalikes.folded_skeleton(name), lookalikes.shown_skeleton(name)

    async def save(self, *args, **kwargs) -> None:
        # Every new room gets its skeletons, however it is made (#general, tests, tools).
        if not self._saved_in_db and self.name and self.name_skeleton is None and self.name_shown_skeleton is None:
            self.name_skeleton, self.name_shown_skeleton = self.skeletons(self.name)
        await super().save(*args, **kwargs)

    @staticmethod
    async def next_seq(conn: BaseDBAsyncClient, conversation_id: int) -> int:
        """Take the next number (inside the caller's transaction: the row stays locked until
        commit, so concurrent writers to one conversation take turns)."""
        # execute_query_dict: asyncpg's execute_query drops the rows of an UPDATE ... RETURNING.
        rows = await conn.execute_query_dict(
            _sql(conn, "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq"),
            [conversation_id],
        )
        return int(rows[0]["last_seq"])


def may_read(conversation: Conversation, member: Membership | None) -> bool:
    """THE rule of who reads a conversation: its members, and everyone an open room (a preview,
    read-only, until they join). Administrators too only by this rule. The conversation page,
    search and a message's files all ask it (app/chat/access.py, app/files/service.py).

    A thread is read by whoever may read its parent conversation: ask with the parent and the
    membership THERE (rule_id, app/chat/access.py). Asked of a thread itself, the answer is no
    (following a thread is not access), so a caller that forgets the parent shows nothing."""
    return readable(conversation.kind, conversation.is_open, member is not None)


def readable(kind: str, is_open: bool, is_member: bool) -> bool:
    """may_read from a row's columns (a query that reads many conversations at once)."""
    if kind == THREAD:
        return False  # asked of its parent (may_read)
    return is_member or (kind == ROOM and bool(is_open))


def rule_id(conversation: Conversation) -> int:
    """The conversation whose rule says who reads and posts here: a thread's parent, else itself."""
    return conversation.parent_id if conversation.kind == THREAD else conversation.id


async def rule_of(conversation: Conversation, user_id: int) -> tuple[Conversation, Membership | None]:
    """The conversation whose rule applies (rule_id) and the user's membership there: what
    may_read and posting ask (a thread's parent room or direct, and the user's place in it)."""
    if conversation.kind == THREAD:
        conversation = await Conversation.get(id=conversation.parent_id)
    return conversation, await Membership.get_or_none(conversation_id=conversation.id, user_id=user_id)


class Membership(Model):
    id = fields.IntField(primary_key=True)
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "models.Conversation", related_name="memberships", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.CASCADE, db_index=True
    )
    joined_at = fields.DatetimeField(auto_now_add=True)
    # The highest event number this member has seen: unread is what came after, not a counter.
    last_read_seq = fields.BigIntField(default=0)
    last_visited_at = fields.DatetimeField(null=True)
    # What this member is notified of here (app/models/notify.py LEVELS); NULL: the default for
    # the kind of conversation (rooms: mentions, directs: all).
    notify = fields.CharField(max_length=8, null=True)

    class Meta:
        table = "memberships"
        unique_together = (("conversation", "user"),)


class Message(Model):
    id = fields.BigIntField(primary_key=True)
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "models.Conversation", related_name="messages", on_delete=fields.CASCADE
    )
    # A removed account's messages stay, under the name it had (author becomes NULL).
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    author_name = fields.CharField(max_length=30)
    body = fields.TextField()
    seq = fields.BigIntField()          # its place: the number taken when it was posted
    version_seq = fields.BigIntField()  # the number of its latest change (post, edit or delete)
    # The sender's own id for this post: a retried post is stored once.
    client_id = fields.CharField(max_length=64, null=True)
    # A reply quotes the message it answers (in the same conversation); NULL once that is gone.
    reply_to: fields.ForeignKeyNullableRelation[Message] = fields.ForeignKeyField(
        "models.Message", related_name=False, null=True, on_delete=fields.SET_NULL, db_index=True
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    edited_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "messages"
        unique_together = (("conversation", "seq"), ("conversation", "client_id"))
        indexes = (("conversation", "version_seq"),)

    MAX_LENGTH = 4000

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Reaction(Model):
    """One person's emoji on a message (once per emoji). Adding or taking one back gives the
    message its conversation's next number, like an edit, so catch-up replays it exactly."""

    id = fields.BigIntField(primary_key=True)
    message: fields.ForeignKeyRelation[Message] = fields.ForeignKeyField(
        "models.Message", related_name="reactions", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    emoji = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "reactions"
        unique_together = (("message", "user", "emoji"),)
        indexes = (("user", "created_at"),)
