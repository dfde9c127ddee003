"""Who sees a conversation: THE reading rule (may_read) and the lookups every door and service
starts from (a member's row, the conversations a user may read).

A thread (Conversation.is_thread) is read by whoever may read its parent conversation and
written in by the parent's members (not archived): following a thread (its memberships) is not
access. visible() gives a thread its `parent` and `parent_member` (the user's row there)."""
from __future__ import annotations

from app.domain import NotFound
from app.models import ROOM, THREAD, Conversation, Membership, User, reads
from app.models.chat import may_read, rule_id, rule_of  # noqa: F401 - THE reading rule: chat asks it here
from app.models.chat import readable as _may_read

NOT_THERE = "There is no such conversation, or you are not in it."


async def membership(user: User, conversation_id: int) -> Membership | None:
    return await membership_by_id(user.id, conversation_id)


async def membership_by_id(user_id: int, conversation_id: int) -> Membership | None:
    found = await reads.rows(f"SELECT {reads.columns(Membership, 'm')} FROM memberships m "
                             "WHERE m.user_id = ? AND m.conversation_id = ?", [user_id, conversation_id])
    return reads.instance(Membership, found[0]) if found else None


async def conversation_ids(user_id: int) -> list[int]:
    return await Membership.filter(user_id=user_id).values_list("conversation_id", flat=True)


async def visible(user: User, conversation_id: int, *, count_members: bool = False
                  ) -> tuple[Conversation, Membership | None]:
    """The conversation and the user's membership, if the user may see it (may_read). Anything
    else does not exist, as far as they can tell (404). For a thread, the membership is the
    user's follow (or None), and the rule is its parent's: `conversation.parent` and
    `conversation.parent_member` are set. `count_members`: `conversation.member_count` is set too
    (the page's header shows it), in the same query."""
    # One query for both (hot: every conversation page and action); a thread's parent in it too.
    counted = (", (SELECT COUNT(*) FROM memberships mc WHERE mc.conversation_id = c.id) AS member_count"
               if count_members else "")
    found = await reads.rows(
        f"SELECT {reads.columns(Conversation, 'c')}{counted}, {reads.columns(Membership, 'm', 'm_')}, "
        f"{reads.columns(Conversation, 'p', 'p_')}, {reads.columns(Membership, 'pm', 'pm_')} FROM conversations c "
        "LEFT JOIN memberships m ON m.conversation_id = c.id AND m.user_id = ? "
        "LEFT JOIN conversations p ON p.id = c.parent_id "
        "LEFT JOIN memberships pm ON pm.conversation_id = p.id AND pm.user_id = ? WHERE c.id = ?",
        [user.id, user.id, conversation_id])
    if not found:
        raise NotFound(NOT_THERE)
    row = found[0]
    conversation = reads.instance(Conversation, row)
    if count_members:
        conversation.member_count = int(row["member_count"])
    member = reads.instance(Membership, row, "m_") if row["m_id"] is not None else None
    if conversation.is_thread:
        if row["p_id"] is None:
            raise NotFound(NOT_THERE)
        parent = reads.instance(Conversation, row, "p_")
        parent_member = reads.instance(Membership, row, "pm_") if row["pm_id"] is not None else None
        conversation.parent, conversation.parent_member = parent, parent_member
        allowed = may_read(parent, parent_member)
    else:
        allowed = may_read(conversation, member)
    if not allowed:
        raise NotFound(NOT_THERE)
    return conversation, member


async def readable_conversation_ids(user: User) -> set[int]:
    """Every conversation the user may read now (may_read), in one query: the candidates are
    their memberships and the rooms (directs are the many, and only members read those); and
    the threads of those, by their parent's rule."""
    found = await reads.rows(
        "SELECT c.id AS id, c.kind AS kind, c.is_open AS is_open, m.id AS member FROM conversations c "
        "LEFT JOIN memberships m ON m.conversation_id = c.id AND m.user_id = ? "
        "WHERE (m.id IS NOT NULL OR c.kind = ?) AND c.kind <> ?", [user.id, ROOM, THREAD])
    ids = {row["id"] for row in found if _may_read(row["kind"], row["is_open"], row["member"] is not None)}
    threads = await reads.rows(
        "SELECT t.id AS id, t.parent_id AS parent_id FROM conversations t WHERE t.kind = ? AND t.parent_id IN "
        "(SELECT c.id FROM conversations c LEFT JOIN memberships m ON m.conversation_id = c.id AND m.user_id = ? "
        "WHERE m.id IS NOT NULL OR c.kind = ?)", [THREAD, user.id, ROOM])
    return ids | {row["id"] for row in threads if row["parent_id"] in ids}


async def member_of(user: User, conversation_id: int) -> tuple[Conversation, Membership | None]:
    """For anything that reads messages or writes: members only (404 for the rest). A thread:
    the members of its parent; the membership given is then the user's follow, or None."""
    conversation, member = await visible(user, conversation_id)
    if (conversation.parent_member if conversation.is_thread else member) is None:
        raise NotFound("Join this room to read and post in it.")
    return conversation, member


async def may_post(user: User, conversation: Conversation) -> Conversation | None:
    """The conversation whose rule applies (a thread's parent, else itself) if the user may
    post in this one (a member there), else None. (Archived: check_not_archived on it.)"""
    rule, member = await rule_of(conversation, user.id)
    return rule if member is not None else None
