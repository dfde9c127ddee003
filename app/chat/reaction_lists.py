"""A message's reactions as it shows them: grouped by emoji in the order each was first given,
with who gave it. Loaded for many messages in one query (as mention and attachment lists are),
for the fragment (templates/chat/_reactions.html) and for programs (`reactions` in message_data)."""
from __future__ import annotations

from app.models import reads


async def reaction_lists(messages) -> None:
    """Give each message `reaction_list`: [{"emoji", "count", "users": [ids], "usernames": [...]}]."""
    by_id = {m.id: m for m in messages}
    for message in by_id.values():
        message.reaction_list = []
    if not by_id:
        return
    rows = await reads.rows(
        "SELECT r.message_id AS message_id, r.emoji AS emoji, r.user_id AS user_id, u.username AS username "
        f"FROM reactions r JOIN users u ON u.id = r.user_id WHERE r.message_id IN ({', '.join('?' * len(by_id))}) "
        "ORDER BY r.id", list(by_id))
    groups: dict[tuple[int, str], dict] = {}
    for row in rows:
        key = (row["message_id"], row["emoji"])
        if (group := groups.get(key)) is None:
            group = groups[key] = {"emoji": row["emoji"], "count": 0, "users": [], "usernames": []}
            by_id[row["message_id"]].reaction_list.append(group)
        group["count"] += 1
        group["users"].append(row["user_id"])
        group["usernames"].append(row["username"])


def reactions_data(message) -> list[dict]:
    """For programs: each emoji with its count, and who (ids, and usernames in the same order)."""
    if message.deleted_at is not None:
        return []
    return [dict(group) for group in getattr(message, "reaction_list", ())]
