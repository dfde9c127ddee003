"""Who sees a conversation: THE reading rule (may_read) and the lookups every door and service
starts from (a member's row, the conversations a user may read)."""
from __future__ import annotations

from app.domain import NotFound
from app.models import ROOM, Conversation, Membership, User, reads
from app.models.chat import may_read  # THE reading rule: chat asks it here, files in the models
from app.models.chat import readable as _may_read


async def membership(user: User, conversation_id: int) -> Membership | None:
    return await membership_by_id(user.id, conversation_id)


async def membership_by_id(user_id: int, conversation_id: int) -> Membership | None:
    found = await reads.rows(f"SELECT {reads.columns(Membership, 'm')} FROM memberships m "
                             "WHERE m.user_id = ? AND m.conversation_id = ?", [user_id, conversation_id])
    return reads.instance(Membership, found[0]) if found else None


async def conversation_ids(user_id: int) -> list[int]:
    return await Membership.filter(user_id=user_id).values_list("conversation_id", flat=True)


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
