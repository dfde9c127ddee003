"""Search: the messages an actor may read now that match what they typed, newest first or most
relevant, a page at a time. One service for every door (the page, the header field, the
conversation's search, REST, the JSON websocket).

How (app/models/search.py has the index, app/models/search_text.py the normaliser):
- the query is parsed by our own parser (app/search/query.py) and becomes quoted, encoded
  terms for FTS5's MATCH or a tsquery, plus phrase checks on the stored sequence of atoms
  (LIKE patterns of [0-9a-z] tokens): nothing typed is ever syntax to the database;
- visibility is one rule, asked of chat (readable_conversation_ids, the rule the conversation
  page uses), applied while walking the matches newest first: the walk stops at a page's worth,
  so a common word costs what a rare one does (join, filter, then sort everything was 556 ms);
- "relevant" ranks the newest walk.RANKED matches, a window at a time, in Python (app/search/walk.py);
- snippets and highlights are made only for the rows shown, from the same atoms (snippets.py).

The parts: plan.py (the query as the database is asked it), walk.py (the SQL and ranking),
snippets.py; this module decides where to look and puts the page together.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup
from tortoise import Tortoise

from app.chat import service as chat
from app.domain import storable
from app.models import DIRECT, ROOM, THREAD, Conversation, Message, User, reads
from app.search import walk
from app.search.plan import Plan
from app.search.plan import plan as make_plan
from app.search.query import Query, parse
from app.search.snippets import snippet

__all__ = ["Hit", "Query", "Results", "search"]

MAX_LIMIT = 50


@dataclass(frozen=True)
class Hit:
    message: Message        # with .conversation and .author fetched
    snippet: Markup         # the body, escaped, cut around the first match, matches in <mark>


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    older: str | None       # give it back as before= for the next page; None at the end
    query: Query            # what was understood


# --- where to look -------------------------------------------------------------------------------

async def _conversations(actor: User, query: Query, conversation_id: int | None) -> set[int]:
    if conversation_id is not None:
        await chat.visible(actor, conversation_id)  # NotFound, as the page says
        ids = {conversation_id} | await _threads_of({conversation_id})
    else:
        ids = await chat.readable_conversation_ids(actor)
    if query.in_:
        named = set()
        for name in query.in_:
            named |= await _named_conversation(actor, name)
        ids &= named | await _threads_of(named)
    return ids


async def _threads_of(conversation_ids: set[int]) -> set[int]:
    """The threads of these conversations: a room's search, or in:#room, finds its threads' replies
    too (readable by the same rule as the room)."""
    if not conversation_ids:
        return set()
    return set(await Conversation.filter(parent_id__in=sorted(conversation_ids), kind=THREAD)
               .values_list("id", flat=True))


async def _named_conversation(actor: User, name: str) -> set[int]:
    """in:#room, or in:@name: the direct conversation of the actor and that person."""
    bare = name[1:]
    if not bare or not storable(bare) or len(bare) > 100:
        return set()
    if name.startswith("@"):
        person = await User.by_username(bare)
        if person is None:
            return set()
        found = await Conversation.get_or_none(kind=DIRECT, direct_key=chat.direct_key([actor, person]))
    else:
        key = chat.room_key(bare)
        if not key or len(key) > chat.ROOM_NAME_MAX:  # no room has such a name (and the column refuses it)
            return set()
        found = await Conversation.get_or_none(kind=ROOM, name_key=key)
    return {found.id} if found else set()


async def _authors(query: Query) -> set[int] | None:
    """from: the ids of the people named (an empty set when none exists); None without from:."""
    if not query.from_:
        return None
    found = set()
    for name in query.from_:
        if storable(name) and (person := await User.by_username(name)) is not None:
            found.add(person.id)
    return found


async def search(actor: User, q: str, *, conversation_id: int | None = None,
                 order: Literal["newest", "relevant"] = "newest",
                 before: str | None = None, limit: int = 20) -> Results:
    """A page of the messages actor may read now that match q (NotFound only for a
    conversation_id they may not read). Never raises for anything typed."""
    query = parse(q)
    limit = max(1, min(int(limit), MAX_LIMIT))
    if not query.searchable:
        return Results([], None, query)
    plan = make_plan(query)
    if not plan.terms and not (query.from_ or query.in_ or query.before or query.after):
        return Results([], None, query)
    conversation_ids = await _conversations(actor, query, conversation_id)
    authors = await _authors(query)
    if not conversation_ids or authors == set():
        return Results([], None, query)
    if query.before and query.after and query.after >= query.before:
        return Results([], None, query)
    dialect = Tortoise.get_connection("default").capabilities.dialect
    completions = await walk.completions(plan) if dialect == "sqlite" else {}
    if completions is None:
        return Results([], None, query)
    sql = walk.Walk(dialect, plan, conversation_ids, authors, query, completions)
    if order == "relevant" and plan.terms:
        ids, older = await walk.relevant(sql, plan, walk.cursor(before, "r"), limit)
    else:
        cursor = walk.cursor(before, "n")
        found = [row["id"] for row in await walk.rows(*sql.newest(cursor[0] if cursor else None, limit + 1))]
        ids, older = found[:limit], (f"n.{found[limit - 1]}" if len(found) > limit else None)
    return Results(await _hits(ids, plan), older, query)


async def _hits(ids: list[int], plan: Plan) -> list[Hit]:
    """The page's messages with their conversation and author, in one plain query (the ORM's
    select_related cost more than the search itself), each with its snippet."""
    if not ids:
        return []
    rows = await reads.rows(
        f"SELECT {reads.columns(Message, 'm')}, {reads.columns(Conversation, 'c', 'c_')}, "
        f"{reads.columns(User, 'u', 'u_')} FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        f"LEFT JOIN users u ON u.id = m.author_id WHERE m.id IN ({', '.join(str(int(i)) for i in ids)})", [])
    found = {}
    for row in rows:
        message = reads.instance(Message, row)
        message.conversation = reads.instance(Conversation, row, "c_")
        message.author = reads.instance(User, row, "u_") if row["u_id"] is not None else None
        found[message.id] = message
    return [Hit(found[i], snippet(found[i].body, plan.marks)) for i in ids if i in found]
