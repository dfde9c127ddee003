"""What a conversation is called where a person sees it: a room by its name, a direct conversation
by its other members' names as they are now, removed accounts said as such, and never two alike in
one person's sidebar (a group whose other member was deleted showed as a second "ada")."""
from __future__ import annotations

from app import lookalikes
from app.models import Conversation, names
from app.models.names import Label
from app.words import plural


def direct_members(conversation: Conversation) -> list[int]:
    """Everyone a direct conversation was started with (its key keeps the ids of removed accounts)."""
    return [int(part) for part in (conversation.direct_key or "").split(",") if part.isdigit()]


def _title(others: list[Label], removed: int) -> str:
    """ "Ada Lovelace, ben", with a person's @username where their name looks like another's."""
    names = sorted((label.full for label in others), key=str.casefold)
    if removed:
        names.append("a removed account" if removed == 1 else f"{plural(removed, 'removed account')}")
    return ", ".join(names) or "Just you"


def direct_titles(me_id: int, directs: list[Conversation], labels: dict[int, Label]) -> dict[int, str]:
    """Each direct conversation's title for this person. Where two would still read alike (the
    same TR39 skeleton: "ada, a removed account" twice, once per removed person), each says when
    it was started."""
    parts = {}
    for conversation in directs:
        ids = [uid for uid in direct_members(conversation) if uid != me_id]
        others = [labels[uid] for uid in ids if uid in labels]
        parts[conversation.id] = (others, len(ids) - len(others))
    titles = {cid: _title(others, removed) for cid, (others, removed) in parts.items()}
    alike: dict[str, list[int]] = {}
    for cid, title in titles.items():
        alike.setdefault(lookalikes.folded_skeleton(title), []).append(cid)
    for conversation in directs:
        if len(alike[lookalikes.folded_skeleton(titles[conversation.id])]) > 1:
            titles[conversation.id] += f" (started {conversation.created_at.strftime('%-d %b %Y, %H:%M')})"
    return titles


def member_ids(directs: list[Conversation]) -> set[int]:
    return {uid for conversation in directs for uid in direct_members(conversation)}


async def places(me_id: int, conversations, also=()) -> tuple[dict[int, str], dict[int, Label]]:
    """What each of these conversations is called in a list of messages from several (search hits,
    mentions): "#dev", "with ada", a thread after its parent ("thread in #dev", "thread with ada");
    and the labels of the people those names need and of `also` (the authors shown beside them)."""
    by_id = {c.id: c for c in conversations}
    threads = [c for c in by_id.values() if c.is_thread]
    parents = {c.id: c for c in await Conversation.filter(id__in=sorted({t.parent_id for t in threads}))}
    named = {**by_id, **parents}
    directs = [c for c in named.values() if not c.is_room and not c.is_thread]
    labels = await names.labels(member_ids(directs) | set(also))
    # "with ada": a direct conversation, told apart from its author's name beside it.
    where = {cid: title if title == "Just you" else f"with {title}"
             for cid, title in direct_titles(me_id, directs, labels).items()}
    where.update({c.id: f"#{c.name}" for c in named.values() if c.is_room})
    where.update({t.id: f"thread {'in ' if parent.is_room else ''}{where.get(parent.id, '')}"
                  for t in threads if (parent := parents.get(t.parent_id)) is not None})
    return where, labels
