"""Search at a million messages, on SQLite and PostgreSQL: part of `make bench` (bench/run.py).

    .venv/bin/python bench/search.py [--messages 50000]    (alone: prints its table)

Seeds N messages (1,000,000 by default) in 200 conversations, the searcher a member of 20, into a
SQLite file and a PostgreSQL database: the app's migrations make the tables, the app's services
make the people and rooms, and the messages go in by bulk insert (executemany in one transaction
on SQLite, COPY on PostgreSQL) with their search index rows written by the engine's own
functions (app.models.search.terms), so the index is the one the app would have built. Three
words are planted: a rare one (30 matches per million, a third where the searcher reads), a
middling one (5,000) and a very common one (350,000).
Seeded databases are kept (bench/cache/, and PostgreSQL databases named huddle_bench_search_*),
keyed by a hash of the migrations, the index's code (app/models/search*.py) and the seed, so a
re-run does not reseed.

Measured, p50/p95 over repeated runs:
  query    app.search.service.search(searcher, word) newest first and by relevance, in process
  page     GET /search?q=word through a real server (Hypercorn on core 0, this client on core 1)
  indexing CPU time of posting a message (app.chat.service.post, many posts) with the index
           write in place and patched out; this process plus, on PostgreSQL, its backends
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from common import (
    ROOT,
    app_site,
    child_main,
    create_person,
    in_child,
    migrate,
    page_client,
    pg_admin,
    pg_create,
    pg_drop,
    pg_scratch,
    pg_url,
    summary,
)

CACHE = ROOT / "bench" / "cache"
SEARCHER = "searcher"
CONVERSATIONS, MEMBER_OF, AUTHORS = 200, 20, 30
SEED_VERSION = "2"  # change when the corpus below changes
# (label, word, matches per million messages)
WORDS = [("rare", "quokka", 30), ("middling", "rollback", 5_000), ("common", "today", 350_000)]
BARS = {"newest": 50.0, "relevant": 100.0, "page": 100.0, "indexing": 10.0}
PG_PREFIX = "huddle_bench_search_"


# --- the corpus -------------------------------------------------------------------------------------

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fi", "gu", "ha", "ji", "ke", "ma",
             "no", "pe", "ri", "su", "te", "wa", "yo", "zi", "bri", "cla", "dro", "fle", "gri", "pla", "sto", "tre"]
SNIPPETS = ["see https://example.com/docs/{w}-guide", "the {w}.opts flag", "ticket #{n}", "{w}_{v}()",
            "on 2026-{m:02d}-{d:02d}", "v{n}.{m}.{d}", "café {w}", "re: {w}-{v}"]


def vocabulary(rng: random.Random, size: int = 6000) -> tuple[list[str], list[float]]:
    """Pseudo-words (none of them a planted word) with Zipf-like frequencies."""
    planted = {word for _, word, _ in WORDS}
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
        if word not in seen and word not in planted:
            seen.add(word)
            words.append(word)
    weights, total = [], 0.0
    for rank in range(size):
        total += 1 / (rank + 1) ** 1.07
        weights.append(total)
    return words, weights


def corpus(n: int) -> list[tuple[int, str]]:
    """(conversation index 0-199, body) for n messages, oldest first. Planted words: exactly
    round(n * per-million / 1e6) messages each (the rare one at least 3)."""
    rng = random.Random(2026)
    words, cumulative = vocabulary(rng)
    lengths = [rng.randint(4, 22) for _ in range(n)]
    drawn = rng.choices(words, cum_weights=cumulative, k=sum(lengths))
    planted: list[set[int]] = []
    for _, _, per_million in WORDS:
        planted.append(set(rng.sample(range(n), max(3, round(n * per_million / 1_000_000)))))
    out, at, rares = [], 0, 0
    for i, length in enumerate(lengths):
        text = drawn[at:at + length]
        at += length
        for (_, word, _), chosen in zip(WORDS, planted, strict=True):
            if i in chosen:
                text.insert(rng.randrange(len(text) + 1), word.capitalize() if rng.random() < 0.2 else word)
        if rng.random() < 0.08:
            snippet = rng.choice(SNIPPETS).format(w=rng.choice(words[:500]), v=rng.choice(words[:500]),
                                                  n=rng.randint(1, 9999), m=rng.randint(1, 12), d=rng.randint(1, 28))
            text.insert(rng.randrange(len(text) + 1), snippet)
        # A third of the rare word's messages are where the searcher reads (the first MEMBER_OF
        # conversations), so it has results to show; the others fall where they may.
        rare = i in planted[0]
        rares += rare
        rare = rare and rares % 3 == 0
        out.append((rng.randrange(MEMBER_OF) if rare else rng.randrange(CONVERSATIONS), " ".join(text)))
    return out


# --- the engine (app/search) as the benchmark uses it ---------------------------------------------------

class Engine:
    """What the benchmark needs from the search engine: the service's search, the index rows of
    bulk-inserted messages (app.models.search.terms, as chat's post writes them), and posting
    with the index write patched out."""

    @staticmethod
    async def search(actor, q: str, order: str):
        from app.search import service

        return await service.search(actor, q, order=order)

    @staticmethod
    def index_sqlite(con: sqlite3.Connection, rows: list[tuple]) -> None:
        """The rows chat's post writes; migration 11's triggers fill the FTS5 table from them."""
        from app.models.search import terms

        con.executemany("INSERT INTO message_search (message_id, conversation_id, terms) VALUES (?, ?, ?)",
                        [(row[0], row[1], terms(row[4])) for row in rows])

    @staticmethod
    async def index_postgres(conn, rows: list[tuple]) -> None:
        from app.models.search import terms

        await conn.copy_records_to_table("message_search", records=[(row[0], row[1], terms(row[4])) for row in rows],
                                         columns=["message_id", "conversation_id", "terms"])

    @staticmethod
    def without_indexing():
        """chat's post with app.models.search.index (the index write in its transaction) a no-op."""
        from unittest import mock

        from app.models import search as index_module

        async def nothing(*args, **kwargs) -> None:
            return None

        return mock.patch.object(index_module, "index", nothing)


def engine() -> type[Engine]:
    return Engine


def schema_hash(n: int) -> str:
    """The migrations, what makes the index's rows (the normaliser and the terms, not how rows are
    written or queried) and the seed: a change to any of them reseeds."""
    import inspect

    from app.models import search, search_text

    digest = hashlib.sha256(f"{SEED_VERSION} {n} {search.SEPARATOR} {search.LINK}".encode())
    for path in sorted((ROOT / "migrations").glob("**/*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    digest.update(inspect.getsource(search_text).encode())
    for made_by in (search.terms, search._terms, search.encode, search._base36):
        digest.update(inspect.getsource(made_by).encode())
    return digest.hexdigest()[:10]


# --- seeding -----------------------------------------------------------------------------------------

async def people_and_rooms(url: str, data_dir: str) -> tuple[list[int], list[tuple[int, str]], int]:
    """Through the app's own services: an administrator, the searcher, the authors; #general and
    199 closed rooms, the searcher in 20 of the 200. Returns (conversation ids, authors, searcher id)."""
    from app.chat.conversations import general, room_key
    from app.models import ROOM, Conversation, Membership, User

    async with app_site(url, Path(data_dir)):
        await create_person("admin")
        searcher = await create_person(SEARCHER)
        authors = [await User.create_account(f"author{k}", f"author{k}@example.com", password_hash="!")
                   for k in range(AUTHORS)]
        rooms = [await general()]
        for k in range(1, CONVERSATIONS):
            name = f"room-{k:03d}"
            rooms.append(await Conversation.create(kind=ROOM, name=name, name_key=room_key(name), is_open=False,
                                                   topic=f"Room {k}"))
        memberships = [Membership(user_id=searcher.id, conversation_id=room.id) for room in rooms[1:MEMBER_OF]]
        memberships += [Membership(user_id=a.id, conversation_id=room.id) for a in authors for room in rooms]
        await Membership.bulk_create(memberships, ignore_conflicts=True, batch_size=2000)
        return [room.id for room in rooms], [(a.id, a.username) for a in authors], searcher.id


def message_rows(n: int, rooms: list[int], authors: list[tuple[int, str]], first_id: int = 1) -> list[tuple]:
    """(id, conversation_id, author_id, author_name, body, seq, created_at) in posting order, over
    the last 365 days; seq counts per conversation."""
    rng = random.Random(7)
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=365)
    step = dt.timedelta(days=365) / n
    seqs = dict.fromkeys(rooms, 0)
    rows = []
    for i, (room, body) in enumerate(corpus(n)):
        conversation = rooms[room]
        seqs[conversation] += 1
        author_id, author_name = authors[rng.randrange(len(authors))]
        rows.append((first_id + i, conversation, author_id, author_name, body, seqs[conversation], start + i * step))
    return rows


def seed_sqlite(path: Path, n: int, report) -> None:
    part = path.with_suffix(".part")
    folder = part.with_suffix(".data")
    for leftover in (part, part.with_name(part.name + "-wal"), part.with_name(part.name + "-shm")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    url = f"sqlite://{part}"
    migrate(url, folder)
    rooms, authors, _ = in_child(__file__, "people_and_rooms", url, str(folder))
    t0 = time.monotonic()
    rows = message_rows(n, rooms, authors)
    report(f"SQLite: {n:,} messages made in {time.monotonic() - t0:.0f} s")
    con = sqlite3.connect(part, isolation_level=None)
    con.execute("PRAGMA synchronous = OFF")
    sample = con.execute("SELECT created_at FROM users LIMIT 1").fetchone()[0]
    sep = "T" if "T" in str(sample) else " "
    con.execute("BEGIN")
    for at in range(0, n, 100_000):
        chunk = rows[at:at + 100_000]
        con.executemany(
            "INSERT INTO messages (id, conversation_id, author_id, author_name, body, seq, version_seq, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(r[0], r[1], r[2], r[3], r[4], r[5], r[5], r[6].isoformat(sep=sep)) for r in chunk])
        engine().index_sqlite(con, chunk)
        report(f"SQLite: {min(n, at + 100_000):,} messages inserted and indexed, {time.monotonic() - t0:.0f} s")
    con.executemany("UPDATE conversations SET last_seq = (SELECT COALESCE(MAX(seq), 0) FROM messages "
                    "WHERE conversation_id = ?) WHERE id = ?", [(room, room) for room in rooms])
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    shutil.rmtree(folder, ignore_errors=True)
    part.rename(path)
    report(f"SQLite: seeded in {time.monotonic() - t0:.0f} s")


def seed_postgres(name: str, n: int, report) -> None:
    import asyncpg

    url, folder = pg_create(name), CACHE / f"{name}.data"
    migrate(url, folder)
    rooms, authors, _ = in_child(__file__, "people_and_rooms", url, str(folder))
    t0 = time.monotonic()
    rows = message_rows(n, rooms, authors)
    report(f"PostgreSQL: {n:,} messages made in {time.monotonic() - t0:.0f} s")

    async def fill() -> None:
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                # The search table's own indexes (the GIN one above all) are built once, after the
                # rows are in, from their definitions as migrated: the same index, made faster.
                await conn.execute("SET maintenance_work_mem = '256MB'")
                indexes = await conn.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = "
                                           "'message_search' AND indexname NOT LIKE '%pkey'")
                for index in indexes:
                    await conn.execute(f'DROP INDEX "{index["indexname"]}"')
                for at in range(0, n, 100_000):
                    chunk = rows[at:at + 100_000]
                    await conn.copy_records_to_table(
                        "messages", records=[(*r[:6], r[5], r[6]) for r in chunk],
                        columns=["id", "conversation_id", "author_id", "author_name", "body", "seq", "version_seq",
                                 "created_at"])
                    await engine().index_postgres(conn, chunk)
                    report(f"PostgreSQL: {min(n, at + 100_000):,} messages inserted and indexed, "
                           f"{time.monotonic() - t0:.0f} s")
                for index in indexes:
                    await conn.execute(index["indexdef"])
                report(f"PostgreSQL: indexes built, {time.monotonic() - t0:.0f} s")
                await conn.execute("SELECT setval(pg_get_serial_sequence('messages', 'id'), $1)", n)
                await conn.execute("UPDATE conversations c SET last_seq = COALESCE((SELECT MAX(seq) FROM messages m "
                                   "WHERE m.conversation_id = c.id), 0)")
                await conn.execute("CREATE TABLE bench_seeded (done boolean)")
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()

    asyncio.run(fill())
    shutil.rmtree(folder, ignore_errors=True)
    report(f"PostgreSQL: seeded in {time.monotonic() - t0:.0f} s")


def seeded(n: int, report) -> dict[str, str]:
    """The two seeded databases' URLs, made if the cache has none for this schema and size; stale
    ones (another schema hash) are removed."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = f"{schema_hash(n)}_{n}"
    path = CACHE / f"search_{key}.sqlite3"
    for stale in CACHE.glob("search_*"):
        if not stale.name.startswith(f"search_{key}.sqlite3"):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
    if not path.exists():
        seed_sqlite(path, n, report)
    name = PG_PREFIX + key
    for row in asyncio.run(pg_admin("SELECT datname FROM pg_database WHERE datname LIKE $1", PG_PREFIX + "%")):
        if row["datname"] != name and not row["datname"].endswith("_copy"):
            pg_drop(row["datname"])

    async def done() -> bool:
        import asyncpg

        try:
            conn = await asyncpg.connect(pg_url(name))
        except (OSError, asyncpg.PostgresError):
            return False
        try:
            return bool(await conn.fetchval("SELECT to_regclass('bench_seeded') IS NOT NULL"))
        finally:
            await conn.close()

    if not asyncio.run(done()):
        seed_postgres(name, n, report)
    return {"SQLite": f"sqlite://{path}", "PostgreSQL": pg_url(name)}


# --- measuring -----------------------------------------------------------------------------------------

async def time_queries(url: str, runs: int) -> dict:
    """Each word, newest first and by relevance: the service's search as the searcher, `runs`
    times after 3 unmeasured."""
    from app.models import User

    out: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        async with app_site(url, Path(folder)):
            searcher = await User.get(username=SEARCHER)
            # As typed, the last word is also a prefix (the word being typed); "word " is finished.
            for kind, order, finished in (("newest", "newest", ""), ("relevant", "relevant", ""),
                                          ("whole", "newest", " ")):
                for label, word, _ in WORDS:
                    times = []
                    for k in range(runs + 3):
                        t = time.perf_counter()
                        results = await engine().search(searcher, word + finished, order)
                        if k >= 3:
                            times.append(time.perf_counter() - t)
                    hits = getattr(results, "hits", results)
                    out[f"{kind} {label}"] = {**summary(times), "hits": len(hits)}
    return out


def count_matches(urls: dict[str, str]) -> dict:
    """How many messages hold each word, and how many of them the searcher may read (SQLite)."""
    con = sqlite3.connect(urls["SQLite"].removeprefix("sqlite://"))
    try:
        member = ("SELECT conversation_id FROM memberships m JOIN users u ON u.id = m.user_id "
                  f"WHERE u.username = '{SEARCHER}'")
        out = {}
        for label, word, _ in WORDS:
            like = f"% {word} %"
            total = con.execute("SELECT COUNT(*) FROM messages WHERE ' ' || lower(body) || ' ' LIKE ?",
                                [like]).fetchone()[0]
            mine = con.execute(f"SELECT COUNT(*) FROM messages WHERE ' ' || lower(body) || ' ' LIKE ? "
                               f"AND conversation_id IN ({member})", [like]).fetchone()[0]
            out[label] = {"word": word, "matches": total, "readable": mine}
        return out
    finally:
        con.close()


def time_page(url: str, runs: int) -> dict:
    """GET /search?q=word, one keep-alive connection, logged in as the searcher: `runs` times a
    word after 3 unmeasured (this client pinned to core 1 meanwhile)."""
    out: dict = {}
    with page_client(url, SEARCHER, timeout=30) as get:
        for label, word, _ in WORDS:
            times, marks, statuses = [], 0, set()
            for k in range(runs + 3):
                took, status, body = get("/search?q=" + urllib.parse.quote(word))
                if k >= 3:
                    times.append(took)
                statuses.add(status)
                marks = body.count(b"<mark")
            out[label] = {**summary(times), "status": sorted(statuses), "marks": marks}
    return out


@contextlib.contextmanager
def copied(url: str, folder: Path):
    """A scratch copy of a seeded database to post into (the cache stays as seeded): its URL."""
    if not url.startswith("sqlite://"):
        name = url.rsplit("/", 1)[1]
        with pg_scratch(name + "_copy", template=name) as copy:
            yield copy
        return
    source = sqlite3.connect(url.removeprefix("sqlite://"))
    target = sqlite3.connect(folder / "copy.sqlite3")
    source.backup(target)
    source.close()
    target.close()
    yield f"sqlite://{folder / 'copy.sqlite3'}"


async def time_posting(url: str, posts: int) -> dict:
    """CPU of `posts` posts with the index write and `posts` without, alternating in blocks of 100:
    this process's CPU time (SQLite runs in it) plus, on PostgreSQL, the CPU of its backends."""
    import psutil
    from tortoise import Tortoise

    from app.chat import service
    from app.models import Conversation, User

    bodies = [body for _, body in corpus(2000)]
    cpu = {True: 0.0, False: 0.0}
    with tempfile.TemporaryDirectory() as folder:
        async with app_site(url, Path(folder)):
            searcher = await User.get(username=SEARCHER)
            rooms = [await Conversation.get(id=cid) for cid in await service.conversation_ids(searcher.id)]
            conn = Tortoise.get_connection("default")
            postgres = conn.capabilities.dialect == "postgres"

            async def backends() -> list:
                if not postgres:
                    return []
                name = url.rsplit("/", 1)[1]
                rows = await conn.execute_query_dict(
                    "SELECT pid FROM pg_stat_activity WHERE datname = $1", [name])
                return [psutil.Process(row["pid"]) for row in rows]

            def used(procs: list) -> float:
                total = time.process_time()
                for proc in procs:
                    with contextlib.suppress(psutil.Error):
                        times = proc.cpu_times()
                        total += times.user + times.system
                return total

            k = 0
            for _ in range(3):  # warm up both ways
                for indexing in (True, False):
                    with contextlib.nullcontext() if indexing else engine().without_indexing():
                        await service.post(searcher, rooms[k % len(rooms)], bodies[k % len(bodies)])
                        k += 1
            done = 0
            while done < posts:
                for indexing in (True, False):
                    procs = await backends()
                    with contextlib.nullcontext() if indexing else engine().without_indexing():
                        before = used(procs)
                        for _ in range(100):
                            await service.post(searcher, rooms[k % len(rooms)], bodies[k % len(bodies)])
                            k += 1
                        cpu[indexing] += used(procs) - before
                done += 100
    with_index, without = cpu[True] / done * 1000, cpu[False] / done * 1000
    return {"posts": done, "cpu_ms_with_index": round(with_index, 3), "cpu_ms_without_index": round(without, 3),
            "overhead_percent": round(100 * (with_index - without) / without, 1)}


def run(messages: int = 1_000_000, runs: int = 40, posts: int = 1000, report=None) -> dict:
    report = report or (lambda text: print(text, file=sys.stderr, flush=True))
    results: dict = {"messages": messages, "conversations": CONVERSATIONS, "member_of": MEMBER_OF,
                     "when": time.strftime("%Y-%m-%d"), "databases": {}}
    urls = seeded(messages, report)
    results["words"] = count_matches(urls)
    for db, url in urls.items():
        row: dict = {}
        report(f"{db}: queries")
        row["query"] = in_child(__file__, "time_queries", url, runs)
        report(f"{db}: the search page")
        try:
            row["page"] = time_page(url, runs)
        except Exception as error:  # noqa: BLE001 - report what was measured, and why this part was not
            row["page"] = {"error": repr(error)[:300]}
        report(f"{db}: posting with and without indexing")
        try:
            with tempfile.TemporaryDirectory() as folder, copied(url, Path(folder)) as copy:
                row["indexing"] = in_child(__file__, "time_posting", copy, posts)
        except Exception as error:  # noqa: BLE001
            row["indexing"] = {"error": repr(error)[:300]}
        results["databases"][db] = row
    return results


# --- the report -----------------------------------------------------------------------------------------

def verdict(value, bar: float) -> str:
    if not isinstance(value, (int, float)):
        return "—"
    return "PASS" if value <= bar else "**FAIL**"


def table(results: dict) -> str:
    words = results.get("words", {})
    head = " | ".join(f"{label} `{w['word']}` ({w['matches']:,}; {w['readable']:,} readable)"
                      for label, w in words.items())
    lines = [f"Measured {results.get('when', '—')}: search at {results['messages']:,} messages in "
             f"{results['conversations']} conversations, the "
             f"searcher in {results['member_of']} (`bench/search.py`): the search service called in process, "
             "20 results, p50 / p95 of "
             f"{next(iter(next(iter(results['databases'].values()))['query'].values()), {}).get('runs', '—')} runs; "
             "the page through Hypercorn, one connection; indexing as extra CPU per post "
             "(`app.chat.service.post` with the index write patched out vs in).", "",
             f"| measure | database | {head} | bar | |", "|---|---|---:|---:|---:|---:|---|"]
    labels = [label for label, _, _ in WORDS]
    for kind, name, bar in (("newest", "query, newest first", BARS["newest"]),
                            ("relevant", "query, most relevant", BARS["relevant"]),
                            ("whole", "query, newest first, word finished (`q=word␠`: no prefix)", BARS["newest"])):
        for db, row in results["databases"].items():
            cells = [row["query"].get(f"{kind} {label}", {}) for label in labels]
            worst = max((c.get("p95_ms", float("inf")) for c in cells), default=None)
            lines.append(f"| {name} | {db} | " + " | ".join(cell(c) for c in cells)
                         + f" | p95 ≤ {bar:g} ms | {verdict(worst, bar)} |")
    for db, row in results["databases"].items():
        page = row.get("page", {})
        if "error" in page:
            lines.append(f"| search page `GET /search?q=` | {db} | {page['error'][:60]} | | | "
                         f"p95 ≤ {BARS['page']:g} ms | — |")
            continue
        cells = [page.get(label, {}) for label in labels]
        worst = max((c.get("p95_ms", float("inf")) for c in cells), default=None)
        lines.append(f"| search page `GET /search?q=` | {db} | " + " | ".join(cell(c) for c in cells)
                     + f" | p95 ≤ {BARS['page']:g} ms | {verdict(worst, BARS['page'])} |")
    for db, row in results["databases"].items():
        index = row.get("indexing", {})
        if "error" in index:
            lines.append(f"| indexing, CPU per post | {db} | {index['error'][:80]} | | | "
                         f"≤ {BARS['indexing']:g}% | — |")
            continue
        lines.append(f"| indexing, CPU per post | {db} | {index['cpu_ms_with_index']} ms with, "
                     f"{index['cpu_ms_without_index']} ms without ({index['posts']:,} posts each) | "
                     f"{index['overhead_percent']:+g}% | | ≤ {BARS['indexing']:g}% | "
                     f"{verdict(index['overhead_percent'], BARS['indexing'])} |")
    return "\n".join(lines)


def cell(c: dict) -> str:
    if "p50_ms" not in c:
        return "—"
    return f"{c['p50_ms']:g} / {c['p95_ms']:g} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main({"people_and_rooms": people_and_rooms, "time_queries": time_queries,
                    "time_posting": time_posting}, args.child)
        return
    if args.seed_only:
        print(seeded(args.messages, lambda text: print(text, file=sys.stderr, flush=True)))
        return
    results = run(args.messages, args.runs, args.posts)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "search.json").write_text(json.dumps(results, indent=2, default=str))
    print(table(results))


if __name__ == "__main__":
    main()
