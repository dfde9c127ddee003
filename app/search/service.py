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
- "relevant" ranks the newest RANKED matches, a window at a time, here in Python from the rows'
  terms (BM25's term saturation and length norm), the same on both databases; the databases'
  own rankers cost 5x the walk (FTS5's bm25 per phrase of a prefix's words; ts_rank per row);
- snippets and highlights are made only for the rows shown, from the same atoms.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from markupsafe import Markup, escape
from tortoise import Tortoise

from app.chat import service as chat
from app.domain import storable
from app.models import DIRECT, ROOM, Conversation, Message, User, reads, search_text
from app.models.search import LINK, SEPARATOR, encode
from app.search.query import Query, parse

__all__ = ["Hit", "Query", "Results", "search"]

MAX_LIMIT = 50
RANKED = 2000          # "relevant" ranks this many of the newest matches at a time
COMPLETIONS = 64       # a prefix longer than FTS5's prefix indexes is looked up as up to this many words
SNIPPET = 200          # characters of body around the first match
SNIPPET_BEFORE = 60    # of which this many before it, when there are


@dataclass(frozen=True)
class Hit:
    message: Message        # with .conversation and .author fetched
    snippet: Markup         # the body, escaped, cut around the first match, matches in <mark>


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    older: str | None       # give it back as before= for the next page; None at the end
    query: Query            # what was understood


@dataclass
class _Plan:
    """The query as the database is asked it."""
    terms: list[tuple[str, bool]] = field(default_factory=list)       # (encoded term, is a prefix)
    patterns: list[str] = field(default_factory=list)                 # LIKE: must be there
    not_patterns: list[str] = field(default_factory=list)             # LIKE: must not be there
    marks: list[tuple[list[str], bool]] = field(default_factory=list)  # atoms to highlight, last a prefix


def _pattern(texts: list[str], prefix: bool) -> str:
    return "% " + " ".join(texts) + ("%" if prefix else " %")


def _plan(query: Query) -> _Plan:
    plan = _Plan()
    for text in [*query.words, *query.phrases, *([query.prefix] if query.prefix else [])]:
        prefix = text is query.prefix
        found = search_text.atoms(text)
        if not found:
            continue
        encoded = [encode(atom.text) for atom in found]
        for i, atom in enumerate(found):
            if atom.cjk:
                after = found[i + 1] if i + 1 < len(found) else None
                if after is not None and after.cjk and not after.gap:
                    plan.terms.append((encode(atom.text + after.text), False))  # its bigram
                elif i == 0 or not found[i - 1].cjk or found[i].gap:
                    plan.terms.append((encoded[i], False))  # a character on its own
            else:
                plan.terms.append((encoded[i], prefix and i == len(found) - 1))
        if len(found) > 1:  # several atoms: in this order, side by side
            plan.patterns.append(_pattern(encoded, prefix))
        if (marks := ([atom.text for atom in found], prefix)) not in plan.marks:
            plan.marks.append(marks)
    for text in query.excluded:
        found = search_text.atoms(text.strip('"') if text.startswith('"') else text)
        if found:
            plan.not_patterns.append(_pattern([encode(atom.text) for atom in found], False))
    if query.has_link:
        plan.terms.append((LINK, False))
    plan.terms = list(dict.fromkeys(plan.terms))
    return plan


# --- where to look -------------------------------------------------------------------------------

async def _conversations(actor: User, query: Query, conversation_id: int | None) -> set[int]:
    if conversation_id is not None:
        await chat.visible(actor, conversation_id)  # NotFound, as the page says
        ids = {conversation_id}
    else:
        ids = await chat.readable_conversation_ids(actor)
    if query.in_:
        named = set()
        for name in query.in_:
            named |= await _named_conversation(actor, name)
        ids &= named
    return ids


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


# --- the walk ----------------------------------------------------------------------------------

def _day(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


class _Sql:
    """One walk's SQL, with `?` placeholders, for the connection's dialect."""

    def __init__(self, dialect: str, plan: _Plan, conversation_ids: set[int], authors: set[int] | None,
                 query: Query, completions: dict[str, list[str]]) -> None:
        self.postgres = dialect == "postgres"
        self.params: list = []
        # SQLite walking FTS matches: "+" keeps it finding each row by message_id, not by probing
        # (conversation_id, message_id) once per readable conversation (5× slower).
        unindexed = "+" if plan.terms and not self.postgres else ""
        where = [f"{unindexed}s.conversation_id IN ({', '.join(str(int(i)) for i in sorted(conversation_ids))})"]
        joins = []
        if plan.terms and not self.postgres:
            source = "message_fts CROSS JOIN message_search s ON s.message_id = message_fts.rowid"
            where.insert(0, "message_fts MATCH ?")
            self.params.append(" AND ".join(_fts_term(term, prefix, completions) for term, prefix in plan.terms))
            self.key = "message_fts.rowid"
        else:
            source = "message_search s"
            self.key = "s.message_id"
            if plan.terms:
                # The words go into the SQL as a literal, not a parameter: asyncpg prepares each
                # statement, and after a few runs PostgreSQL's generic plan (blind to the words)
                # walked the whole table backwards (0.8 s for a rare word at a million messages,
                # 1.6 ms planned for the word). Safe: every term is [0-9a-z] (app/models/search.py).
                tsquery = " & ".join(term + (":*" if prefix else "") for term, prefix in plan.terms)
                if not all(term.isascii() and term.isalnum() and term.lower() == term for term, _ in plan.terms):
                    raise ValueError(f"search terms must be encoded to [0-9a-z]: {tsquery!r}")
                literal = f"CAST('{tsquery}' AS tsquery)"
                where.insert(0, f"s.vector @@ {literal}")  # stored, GIN-indexed (migration 12)
        for pattern in plan.patterns:
            where.append("(' ' || s.terms || ' ') LIKE ?")
            self.params.append(pattern)
        for pattern in plan.not_patterns:
            where.append("(' ' || s.terms || ' ') NOT LIKE ?")
            self.params.append(pattern)
        # Deleted messages have no row here (unindexed in the transaction that deletes them): the
        # messages table is joined only for what is asked of it (a third of a walk's time).
        if authors is not None or query.before or query.after:
            joins.append(("JOIN" if self.postgres else "CROSS JOIN") + " messages m ON m.id = s.message_id")
            where.append("m.deleted_at IS NULL")
        if authors is not None:
            where.append(f"m.author_id IN ({', '.join(str(int(i)) for i in sorted(authors))})")
        if query.before:
            where.append("m.created_at < ?")
            self.params.append(_day(query.before))
        if query.after:
            where.append("m.created_at >= ?")
            self.params.append(_day(query.after + dt.timedelta(days=1)))
        self.source = source + " " + " ".join(joins)
        self.where = where

    def newest(self, below: int | None, limit: int) -> tuple[str, list]:
        where = [*self.where, *([f"{self.key} < ?"] if below is not None else [])]
        sql = (f"SELECT {self.key} AS id FROM {self.source} WHERE {' AND '.join(where)} "
               f"ORDER BY {self.key} DESC LIMIT {int(limit)}")
        return sql, [*self.params, *([below] if below is not None else [])]

    def ranked(self, top: int | None) -> tuple[str, list]:
        where = [*self.where, *([f"{self.key} <= ?"] if top is not None else [])]
        sql = (f"SELECT {self.key} AS id, s.terms AS terms FROM {self.source} WHERE {' AND '.join(where)} "
               f"ORDER BY {self.key} DESC LIMIT {RANKED}")
        return sql, [*self.params, *([top] if top is not None else [])]


def _fts_term(term: str, prefix: bool, completions: dict[str, list[str]]) -> str:
    if not prefix:
        return f'"{term}"'
    if term in completions:  # the words it starts, looked up: FTS5 walks an OR lazily
        return "(" + " OR ".join(f'"{word}"' for word in completions[term]) + ")"
    return f'"{term}"*'


async def _completions(plan: _Plan) -> dict[str, list[str]] | None:
    """SQLite: the indexed words that each prefix longer than FTS5's prefix indexes (2 and 3)
    starts, up to COMPLETIONS of them. FTS5 answers such a prefix by merging every matching
    word's list of rows in memory first (110 ms for `today` at a million messages, against
    0.3 ms for the word); an OR of the words is walked newest first like a word. More words
    than that: FTS5's own prefix query. None when a prefix starts no word (nothing can match)."""
    long = [term for term, prefix in plan.terms if prefix and len(term) > 3]
    if not long:
        return {}
    conn = Tortoise.get_connection("default")
    await conn.execute_script(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.message_fts_vocab USING fts5vocab(main, message_fts, row)")
    found = {}
    for term in long:
        after = term[:-1] + chr(ord(term[-1]) + 1)
        rows = await conn.execute_query_dict(
            f"SELECT term FROM temp.message_fts_vocab WHERE term >= ? AND term < ? LIMIT {COMPLETIONS + 1}",
            [term, after])
        if not rows:
            return None
        if len(rows) <= COMPLETIONS:
            found[term] = [row["term"] for row in rows]
    return found


async def _rows(sql: str, params: list) -> list[dict]:
    conn = Tortoise.get_connection("default")
    if conn.capabilities.dialect == "postgres":
        first, *rest = sql.split("?")
        sql = first + "".join(f"${n}{part}" for n, part in enumerate(rest, 1))
    return await conn.execute_query_dict(sql, params)


def _cursor(value: str | None, kind: str) -> list[int] | None:
    """A cursor this service made ("n.<id>" or "r.<top>.<offset>"), or None (ignored, like ?before=)."""
    if not isinstance(value, str) or not value.startswith(kind + "."):
        return None
    parts = value.split(".")[1:]
    if len(parts) != (1 if kind == "n" else 2) or not all(p.isascii() and p.isdigit() and len(p) <= 18 for p in parts):
        return None
    return [int(p) for p in parts]


async def search(actor: User, q: str, *, conversation_id: int | None = None,
                 order: Literal["newest", "relevant"] = "newest",
                 before: str | None = None, limit: int = 20) -> Results:
    """A page of the messages actor may read now that match q (NotFound only for a
    conversation_id they may not read). Never raises for anything typed."""
    query = parse(q)
    limit = max(1, min(int(limit), MAX_LIMIT))
    if not query.searchable:
        return Results([], None, query)
    plan = _plan(query)
    if not plan.terms and not (query.from_ or query.in_ or query.before or query.after):
        return Results([], None, query)
    conversation_ids = await _conversations(actor, query, conversation_id)
    authors = await _authors(query)
    if not conversation_ids or authors == set():
        return Results([], None, query)
    if query.before and query.after and query.after >= query.before:
        return Results([], None, query)
    dialect = Tortoise.get_connection("default").capabilities.dialect
    completions = await _completions(plan) if dialect == "sqlite" else {}
    if completions is None:
        return Results([], None, query)
    sql = _Sql(dialect, plan, conversation_ids, authors, query, completions)
    if order == "relevant" and plan.terms:
        ids, older = await _relevant(sql, plan, _cursor(before, "r"), limit)
    else:
        cursor = _cursor(before, "n")
        found = [row["id"] for row in await _rows(*sql.newest(cursor[0] if cursor else None, limit + 1))]
        ids, older = found[:limit], (f"n.{found[limit - 1]}" if len(found) > limit else None)
    return Results(await _hits(ids, plan), older, query)


async def _relevant(sql: _Sql, plan: _Plan, cursor: list[int] | None, limit: int) -> tuple[list[int], str | None]:
    """Ranked a window of the newest RANKED matches at a time; the cursor is the window's top
    and the place in it, so a page never moves when new messages come."""
    top, offset = cursor if cursor else (None, 0)
    while True:
        window = await _rows(*sql.ranked(top))
        scores = _scores(window, plan)
        ranked = [row["id"] for row in sorted(window, key=lambda row: (-scores[row["id"]], -row["id"]))]
        if top is None and window:
            top = window[0]["id"]
        page = ranked[offset:offset + limit]
        if offset + limit < len(ranked):
            return page, f"r.{top}.{offset + limit}"
        if len(window) < RANKED:
            return page, None
        # This window is done: the next starts below it (and the page carries on into it).
        next_top = window[-1]["id"] - 1
        if page:
            return page, f"r.{next_top}.0"
        top, offset = next_top, 0


K1, B = 1.2, 0.75  # BM25's usual constants


def _scores(window: list[dict], plan: _Plan) -> dict[int, float]:
    """BM25 without its idf, which is the same for every row here (each holds every term): the
    more often the words occur, the more, with diminishing returns, in a shorter message the
    better. From the stored terms: the same numbers on SQLite and PostgreSQL."""
    counted = []
    for row in window:
        tokens = row["terms"].split(" ")
        length = tokens.index(SEPARATOR) if SEPARATOR in tokens else len(tokens)  # its atoms
        counts = [sum(1 for token in tokens if token.startswith(term)) if prefix else tokens.count(term)
                  for term, prefix in plan.terms]
        counted.append((row["id"], max(length, 1), counts))
    average = sum(length for _, length, _ in counted) / len(counted) if counted else 1.0
    return {id_: sum(n * (K1 + 1) / (n + K1 * (1 - B + B * length / average)) for n in counts)
            for id_, length, counts in counted}


async def _hits(ids: list[int], plan: _Plan) -> list[Hit]:
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


# --- snippets ----------------------------------------------------------------------------------

def _marked(body: str, marks: list[tuple[list[str], bool]]) -> list[tuple[int, int]]:
    """Where in body the searched words are, as written: (start, end), merged, in order."""
    found = search_text.atoms(body)
    texts = [atom.text for atom in found]
    spans = []
    for wanted, prefix in marks:
        n = len(wanted)
        for i in range(len(texts) - n + 1):
            if texts[i:i + n - 1] != wanted[:-1]:
                continue
            last = texts[i + n - 1]
            if last == wanted[-1] or (prefix and last.startswith(wanted[-1])):
                spans.append((found[i].start, found[i + n - 1].end))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(body: str, marks: list[tuple[list[str], bool]]) -> Markup:
    """The body, escaped, about SNIPPET characters around its first match, matches in <mark>."""
    spans = _marked(body, marks)
    start = 0
    if spans and spans[0][0] > SNIPPET_BEFORE and len(body) > SNIPPET:
        start = spans[0][0] - SNIPPET_BEFORE
        while start > 0 and not body[start - 1].isspace() and spans[0][0] - start < SNIPPET_BEFORE + 20:
            start -= 1  # not in the middle of a word
        start = max(0, min(start, len(body) - SNIPPET))
    end = min(len(body), start + SNIPPET)
    while end < len(body) and not body[end].isspace() and end - start < SNIPPET + 20:
        end += 1
    out, at = [Markup("…")] if start else [], start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        out.append(escape(body[at:span_start]))
        out.append(Markup("<mark>{}</mark>").format(body[span_start:span_end]))
        at = span_end
    out.append(escape(body[at:end]))
    if end < len(body):
        out.append(Markup("…"))
    return Markup("").join(out)
