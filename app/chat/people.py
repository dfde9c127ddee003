"""Whom a composer offers when someone types `@` (static/js/mention-complete.js asks
app/chat/people_routes.py, which asks this): people who may read the conversation (may_read, the
one rule: its members, and everyone for an open room), not the asker, whose username, display
name or a word of it starts with what was typed (case and accents aside: "jose" finds "José
Díaz", "DIAZ" too); those who spoke here lately first (the latest first), then by name; and
`@everyone` in a room that allows it. At most LIMIT in all. Only members ask (they have the
composer): anyone else gets the conversation's 404."""
from __future__ import annotations

import re
from typing import NamedTuple

from app.chat import service
from app.models import Conversation, User, reads
from app.models.search_text import fold_char

LIMIT = 8
RECENT = 200  # "lately": among the authors of the conversation's last RECENT messages
TYPED_MAX = 64  # a display name's longest: nothing starts with more (a longer q finds no one)
EVERYONE = "everyone"
_WORDS = re.compile(r"[\s._\-]+")


class Suggestion(NamedTuple):
    username: str  # what a pick inserts: "@username "
    display_name: str  # "" when they have none
    everyone: bool = False


def fold(text: str) -> str:
    """As typed and as matched: NFKC, case-folded, accents off (the search's normaliser's letters)."""
    return "".join(fold_char(ch) for ch in text)


def _matches(typed: str, username: str, display_name: str) -> bool:
    if not typed or fold(username).startswith(typed):
        return True
    name = fold(display_name)
    return name.startswith(typed) or any(word.startswith(typed) for word in _WORDS.split(name))


async def _readers(user: User, conversation: Conversation) -> list[dict]:
    """Everyone who may read the conversation but the asker: id, username, display name."""
    everyone_reads = conversation.is_room and conversation.is_open  # may_read lets every member of the site in
    found = await reads.rows(
        "SELECT u.id AS id, u.username AS username, u.display_name AS display_name, m.id AS member "
        "FROM users u LEFT JOIN memberships m ON m.user_id = u.id AND m.conversation_id = ? "
        f"WHERE u.id <> ?{'' if everyone_reads else ' AND m.id IS NOT NULL'}",
        [conversation.id, user.id])
    # The one rule decides, row by row (a membership's id stands for the membership it asks about).
    return [row for row in found if service.may_read(conversation, row["member"])]


async def _last_spoke(conversation: Conversation) -> dict[int, int]:
    """Author id -> the number of their latest message among the conversation's last RECENT."""
    found = await reads.rows(
        "SELECT author_id, MAX(seq) AS latest FROM messages WHERE conversation_id = ? AND seq > ? "
        "AND author_id IS NOT NULL GROUP BY author_id", [conversation.id, conversation.last_seq - RECENT])
    return {row["author_id"]: int(row["latest"]) for row in found}


async def to_mention(user: User, conversation_id: int, typed: str) -> tuple[Conversation, list[Suggestion]]:
    """The conversation (a member's, else NotFound) and whom to offer for `@<typed>`."""
    conversation, _ = await service.member_of(user, conversation_id)
    rule = conversation.parent if conversation.is_thread else conversation  # a thread: its parent's readers
    typed = (typed or "").removeprefix("@")
    if len(typed) > TYPED_MAX:
        return conversation, []
    wanted = fold(typed)
    offer_everyone = rule.is_room and rule.everyone_allowed and EVERYONE.startswith(wanted)
    room_for = LIMIT - 1 if offer_everyone else LIMIT
    found = [row for row in await _readers(user, rule)
             if _matches(wanted, row["username"], row["display_name"] or "")]
    spoke = await _last_spoke(conversation) if found else {}
    found.sort(key=lambda row: (-spoke.get(row["id"], -1), fold(row["display_name"] or row["username"]),
                                fold(row["username"])))
    offered = [Suggestion(row["username"], row["display_name"] or "") for row in found[:room_for]]
    if offer_everyone:
        offered.append(Suggestion(EVERYONE, "", everyone=True))
    return conversation, offered
