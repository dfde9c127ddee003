"""Who sees a conversation: THE reading rule (may_read) and the lookups every door and service
starts from (a member's row, the conversations a user may read)."""
from __future__ import annotations

from app.domain import NotFound
from app.models import ROOM, Conversation, Membership, User, reads


async def membership(user: User, conversation_id: int) -> Membership | None:
    return await membership_by_id(user.id, conversation_id)


async def membership_by_id(user_id: int, conversation_id: int) -> Membership | None:
    found = await reads.rows(f"SELECT {reads.columns(Membership, 'm')} FROM memberships m "
                             "WHERE m.user_id = ? AND m.conversation_id = ?", [user_id, conversation_id])
    return reads.instance(Membership, found[0]) if found else None


async def conversation_ids(user_id: int) -> list[int]:
    return await Membership.filter(user_id=user_id).values_list("conversation_id", flat=True)


def may_read(conversation: Conversation, member: Membership | None) -> bool:
    """THE rule of who reads a conversation: its members, and everyone an open room (a preview,
    read-only, until they join). Administrators too only by this rule. The conversation page
    (visible) and search (readable_conversation_ids) both ask it."""
    return _may_read(conversation.kind, conversation.is_open, member is not None)


def _may_read(kind: str, is_open: bool, is_member: bool) -> bool:
    return is_member or (kind == ROOM and bool(is_open))


async def visible(user: User, conversation_id: int) -> tuple[Conversation, Membership | None]:
    """The conversation and the user's membership, if the user may see it (may_read). Anything
    else does not exist, as far as they can tell (404)."""
    # One query for both (hot: every conversation page and action).
    found = await reads.rows(
        f"SELECT {reads.columns(Conversation, 'c')}, {reads.columns(Membership, 'm', 'm_')} FROM conversations c "
        "LEFT JOIN memberships m ON m.conversation_id = c.id AND m.user_id = ? WHERE c.id = ?",
        [user.id, conversation_id])
    conversation = reads.instance(Conversation, found[0]) if found else None
    member = reads.instance(Membership, found[0], "m_") if found and found[0]["m_id"] is not None else None
    if conversation is None or not may_read(conversation, member):
        raise NotFound("There is no such conversation, or you are not in it.")
    return conversation, member


async def readable_conversation_ids(user: User) -> set[int]:
    """Every conversation the user may read now (may_read), in one query: the candidates are
    their memberships and the rooms (directs are the many, and only members read those)."""
    found = await reads.rows(
        "SELECT c.id AS id, c.kind AS kind, c.is_open AS is_open, m.id AS member FROM conversations c "
        "LEFT JOIN memberships m ON m.conversation_id = c.id AND m.user_id = ? "
        "WHERE m.id IS NOT NULL OR c.kind = ?", [user.id, ROOM])
    return {row["id"] for row in found if _may_read(row["kind"], row["is_open"], row["member"] is not None)}


async def member_of(user: User, conversation_id: int) -> tuple[Conversation, Membership]:
    """For anything that reads messages or writes: members only (404 for the rest)."""
    conversation, member = await visible(user, conversation_id)
    if member is None:
        raise NotFound("Join this room to read and post in it.")
    return conversation, member
