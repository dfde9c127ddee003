"""The walk: one search's SQL for the connection's dialect, newest first (stopping at a page) or a
window of the newest RANKED matches at a time ranked here, and its keyset cursors.

- SQLite: FTS5's MATCH over the index's own table (app/models/search.py), the word being typed
  looked up as its completions (fts5vocab) when longer than FTS5's prefix indexes;
- PostgreSQL: the stored tsvector's GIN index, the words as a literal (see Walk);
- "relevant" ranks in Python from the rows' terms (BM25's term saturation and length norm), the
  same on both databases; the databases' own rankers cost 5x the walk (FTS5's bm25 per phrase of
  a prefix's words; ts_rank per row)."""
from __future__ import annotations

import datetime as dt

from tortoise import Tortoise

from app.models.search import SEPARATOR
from app.search.plan import Plan
from app.search.query import Query

RANKED = 2000          # "relevant" ranks this many of the newest matches at a time
COMPLETIONS = 64       # a prefix longer than FTS5's prefix indexes is looked up as up to this many words


def _day(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


class Walk:
    """One walk's SQL, with `?` placeholders, for the connection's dialect."""

    def __init__(self, dialect: str, plan: Plan, conversation_ids: set[int], authors: set[int] | None,
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


async def completions(plan: Plan) -> dict[str, list[str]] | None:
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


async def rows(sql: str, params: list) -> list[dict]:
    conn = Tortoise.get_connection("default")
    if conn.capabilities.dialect == "postgres":
        first, *rest = sql.split("?")
        sql = first + "".join(f"${n}{part}" for n, part in enumerate(rest, 1))
    return await conn.execute_query_dict(sql, params)


def cursor(value: str | None, kind: str) -> list[int] | None:
    """A cursor this service made ("n.<id>" or "r.<top>.<offset>"), or None (ignored, like ?before=)."""
    if not isinstance(value, str) or not value.startswith(kind + "."):
        return None
    parts = value.split(".")[1:]
    if len(parts) != (1 if kind == "n" else 2) or not all(p.isascii() and p.isdigit() and len(p) <= 18 for p in parts):
        return None
    return [int(p) for p in parts]


async def relevant(sql: Walk, plan: Plan, cursor: list[int] | None, limit: int) -> tuple[list[int], str | None]:
    """Ranked a window of the newest RANKED matches at a time; the cursor is the window's top
    and the place in it, so a page never moves when new messages come."""
    top, offset = cursor if cursor else (None, 0)
    while True:
        window = await rows(*sql.ranked(top))
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


def _scores(window: list[dict], plan: Plan) -> dict[int, float]:
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
