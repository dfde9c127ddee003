"""Chat rules, in one place for the pages, the JSON API and tests: who sees, reads, posts to,
edits and deletes what; numbering every change; unread counts. Services never touch the
request or render: they publish through app/chat/events.py after their transaction commits.

Callers import this module only; the rules live in its parts, re-exported here: access.py (who
sees what: may_read), messages.py (post, edit, delete, the read position), conversations.py
(rooms and directs), room_changes.py, history.py, mentions.py, levels.py; threads.py (a message's
thread: open_thread, thread_of, follow, followed) is its own service, called directly."""
from __future__ import annotations

from typing import NamedTuple

from app.chat import mentions
from app.chat.access import (  # noqa: F401 - one service for callers: who sees what too
    conversation_ids,
    may_post,
    may_read,
    member_of,
    membership,
    membership_by_id,
    readable_conversation_ids,
    rule_id,
    visible,
)
from app.chat.conversations import (  # noqa: F401 - one service for callers: rooms and directs too
    DIRECT_MAX_PEOPLE,
    EVERYONE_IN_GENERAL,
    GENERAL,
    ROOM_NAME_MAX,
    TOPIC_MAX,
    add_member,
    check_room,
    create_room,
    direct_key,
    direct_people,
    find_direct,
    general,
    is_everyones,
    join,
    leave,
    may_leave,
    may_manage,
    open_direct,
    open_room,
    remove_member,
    room_key,
    welcome,
)
from app.chat.history import (  # noqa: F401 - one service for callers: reading history too
    PAGE,
    around,
    changes_since,
    from_unread,
    has_newer,
    history,
    history_rows,
    newer_rows,
    newest_first,
    preview,
)
from app.chat.messages import (  # noqa: F401 - one service for callers: messages and reading too
    POSTING_TOO_FAST,
    UNREAD_CAP,
    check_body,
    check_client_id,
    check_may_edit,
    check_not_archived,
    delete,
    edit,
    get_message,
    mark_read,
    mark_unread_from,
    post,
    send_direct,
    unread_counts,
    unread_counts_by_id,
)
from app.chat.room_changes import (  # noqa: F401 - one service for callers: changing rooms too
    CLOSING_KEEPS_MEMBERS,
    GENERAL_STAYS,
    OPENING_LISTS_IT,
    change_room,
    delete_room,
    manageable,
    message_count,
)
from app.models import ROOM, THREAD, Conversation, Membership, User, reads

# --- seeing a conversation ---------------------------------------------------------------------

async def header_changed_since(conversation_id: int, after: int) -> Conversation | None:
    """The room, if its header (name, topic, open, archived) changed after event number `after`."""
    return await Conversation.get_or_none(id=conversation_id, kind=ROOM, header_seq__gt=after)


async def my_conversations(user: User) -> list[tuple[Conversation, Membership]]:
    """The user's rooms and directs (not the threads they follow: app/chat/threads.py followed)."""
    found = await reads.rows(
        f"SELECT {reads.columns(Membership, 'm')}, {reads.columns(Conversation, 'c', 'c_')} FROM memberships m "
        "JOIN conversations c ON c.id = m.conversation_id WHERE m.user_id = ? AND c.kind <> ? ORDER BY m.id",
        [user.id, THREAD])
    return [(reads.instance(Conversation, row, "c_"), reads.instance(Membership, row)) for row in found]


async def members(conversation: Conversation) -> list[User]:
    return [m.user for m in await Membership.filter(conversation_id=conversation.id).select_related("user")]


async def members_of(ids: list[int], *, without: int | None = None) -> dict[int, list[User]]:
    """The members of several conversations in one query (a sidebar of direct conversations)."""
    found: dict[int, list[User]] = {cid: [] for cid in ids}
    if ids:
        rows = Membership.filter(conversation_id__in=ids).select_related("user").order_by("user_id")
        for row in await rows:
            if row.user_id != without:
                found[row.conversation_id].append(row.user)
    return found


async def open_rooms_not_joined(user: User) -> list[Conversation]:
    """Open rooms the user is not in (not archived ones)."""
    found = await reads.rows(
        f"SELECT {reads.columns(Conversation, 'c')} FROM conversations c WHERE c.kind = ? AND c.is_open = ? "
        "AND c.archived_at IS NULL "
        "AND c.id NOT IN (SELECT conversation_id FROM memberships WHERE user_id = ?) ORDER BY c.name_key",
        [ROOM, True, user.id])
    return [reads.instance(Conversation, row) for row in found]


class Person(NamedTuple):
    """What a list of people shows: a name and a presence badge."""
    id: int
    username: str


async def people_list(limit: int = 100) -> list[Person]:
    """The first `limit` people by name: no password hash or dates read for a sidebar."""
    found = await reads.rows("SELECT id, username FROM users ORDER BY username_key LIMIT ?", [limit])
    return [Person(row["id"], row["username"]) for row in found]


# --- mentions (app/chat/mentions.py) ---------------------------------------------------------------

async def mention_counts_by_id(user_id: int) -> dict[int, int]:
    """Per conversation: the user's unread mentions there (from last_read_seq, like unread)."""
    return await mentions.unread_counts(user_id)


async def mentions_of(user: User, *, before: int | None = None, size: int = PAGE) -> tuple[list, int | None]:
    """Everything that mentioned the user, newest first, in conversations they may read now
    (may_read), a page at a time (keyset: `before` is the cursor the page before gave)."""
    return await mentions.page(user, before=before, size=size, may_read=may_read)
