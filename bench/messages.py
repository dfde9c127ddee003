"""Richer messages (issue 22) on SQLite and PostgreSQL, against a plain post in the same room: part of
`make bench` (bench/run.py --only messages).

    .venv/bin/python bench/messages.py [--quick]     (alone: prints its table)

Each database is a scratch one (a SQLite file; a PostgreSQL database on 127.0.0.1 made and dropped),
migrated by the app. Measured, p50/p95:
  in process (a fresh process per database: the app's services in its context, the broker in
  memory, one subscriber on the conversations' topics counting the events each change publishes),
  in rounds so that drift touches every row alike:
    post           app.chat.service.post, a plain message: the baseline
    reply          post with reply_to (the original's author is mentioned)
    thread reply   post in a thread (the follow rows, the parent's renumber and its event)
    reaction       app.chat.reactions.toggle (add, then remove, ...)
    edit, 3 quoted an edit of a message three replies quote (each reply renumbered and published)
    Threads        app.chat.threads.followed and followed_counts for a person following 1,000
                   threads (100 with unread replies; seeded in bulk)
    link preview   a post with a link, then the LinkWorker's work_due: the page fetched from a local
                   aiohttp site (HUDDLE_PREVIEW_ALLOWED_HOSTS), its image stored, the row ready and
                   the message renumbered and published (its thumbnail is the file worker's, after)
    cut            app.links.fetch.fetch_page of a 10 MB page whose head never ends: the body bytes
                   the fetcher took (≤ 1 MB + 64 KiB) and how long it took
  through a real server (Hypercorn on core 0, this client on core 1, one keep-alive connection):
    GET /chat/threads as that person; GET /chat/<id> of 50 messages each with a reply quote, 3
    reactions and a thread summary, warm (render cache) and cold (before each request every
    message takes a new number by SQL, so every fragment misses the cache).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import ROOT, app_site, child_main, create_person, in_child, migrate, page_client, pg_scratch, summary

OPS = ["post", "reply", "thread reply", "reaction", "edit, 3 quoted"]
PEOPLE = ("ada", "bob", "cyd", "reader")
EMOJI = ("👍", "🎉", "❤️")
CUT_LIMIT = 1024 * 1024 + 64 * 1024


# --- in process (a child per database) -------------------------------------------------------------

async def link_site():
    """A local web site: /a/<n> an article with an image of its own (/i/<n>.png), /huge 10 MB of head."""
    from aiohttp import web
    from PIL import Image

    def image(request):
        out = io.BytesIO()
        n = int(request.match_info["n"])
        Image.new("RGB", (400, 200), (n % 256, n // 256 % 256, 90)).save(out, "PNG")
        return web.Response(body=out.getvalue(), content_type="image/png")

    def article(request):
        n = request.match_info["n"]
        return web.Response(content_type="text/html", text=(
            f"<!doctype html><html><head><title>Article {n}</title>"
            f'<meta property="og:title" content="Article {n}"><meta property="og:description" '
            f'content="What article {n} is about."><meta property="og:site_name" content="Bench News">'
            f'<meta property="og:image" content="/i/{n}.png"></head><body><p>Text.</p></body></html>'))

    huge = (b"<!doctype html><html><head><title>Huge</title><script>" + b"x" * (10 * 1024 * 1024))

    def big(request):
        return web.Response(body=huge, content_type="text/html")

    app = web.Application()
    app.add_routes([web.get("/a/{n}", article), web.get("/i/{n}.png", image), web.get("/huge", big)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    from bench.run import free_port

    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"127.0.0.1:{port}"


def drain(subscription) -> int:
    count = 0
    while not subscription.queue.empty():
        subscription.queue.get_nowait()
        count += 1
    return count


async def measure(url: str, data_dir: str, runs: int, threads: int, unread: int) -> dict:
    runner, host = await link_site()
    try:
        async with app_site(url, Path(data_dir), HUDDLE_PREVIEW_ALLOWED_HOSTS=host, HUDDLE_LINK_PREVIEWS="1"):
            people = await make_people()
            out = {"ops": await time_ops(people, runs)}
            out["threads"] = await time_threads(people, threads, unread, runs)
            out["page_room"] = await seed_page(people)
            out["preview"] = await time_previews(people, host, max(10, runs // 4))
            out["cut"] = await time_cut(host, 5)
            return out
    finally:
        await runner.cleanup()


async def make_people() -> dict:
    from app.chat import service as chat

    people = {}
    for name in PEOPLE:
        people[name] = await create_person(name)
        await chat.welcome(people[name])
    return people


async def time_ops(people: dict, runs: int) -> dict:
    """Each change in turn, `runs` rounds after 5 unmeasured: its time, and the events it published."""
    from app.chat import events, reactions, threads
    from app.chat import service as chat
    from app.runtime import runtime

    ada, bob = people["ada"], people["bob"]
    room = await chat.general()
    parents = [await chat.post(ada, room, f"parent {k}") for k in range(10)]
    threaded = [await threads.open_thread(bob, p.id) for p in parents]
    answered = await chat.post(bob, room, "a message the replies answer")  # (bob's: each reply mentions him)
    quoted = await chat.post(bob, room, "an original three replies quote")
    for k in range(3):
        await chat.post(ada, room, f"quoting it, {k}", reply_to=quoted.id)
    reacted = await chat.post(ada, room, "a message to react to")
    times: dict = {op: [] for op in OPS}
    counted: dict = {op: set() for op in OPS}
    topics = [events.topic(c.id) for c in [room, *threaded]]
    async with runtime().broker.subscribe(topics) as subscription:
        for k in range(runs + 5):
            steps = {
                "post": lambda k=k: chat.post(ada, room, f"plain message {k}"),
                "reply": lambda k=k: chat.post(ada, room, f"a reply {k}", reply_to=answered.id),
                "thread reply": lambda k=k: chat.post(bob, threaded[k % 10], f"in the thread {k}"),
                "reaction": lambda: reactions.toggle(bob, reacted.id, "👍"),
                "edit, 3 quoted": lambda k=k: edit(bob, quoted.id, f"an original three replies quote, v{k}"),
            }
            for op in OPS:
                drain(subscription)
                started = time.perf_counter()
                await steps[op]()
                took = time.perf_counter() - started
                if k >= 5:
                    times[op].append(took)
                    counted[op].add(drain(subscription))
    return {op: {**summary(times[op]), "events": sorted(counted[op])} for op in OPS}


async def edit(actor, message_id: int, text: str):
    from app.chat import service as chat

    return await chat.edit(actor, await chat.get_message(actor, message_id), text)


async def time_threads(people: dict, n: int, unread: int, runs: int) -> dict:
    """A room of n parents, each with a thread of 2 replies (bob's) that the reader follows, the
    first `unread` of them unread: seeded in bulk. Then the service's two reads, timed."""
    from app import clock
    from app.chat import threads
    from app.chat.conversations import room_key
    from app.models import ROOM, THREAD, Conversation, Membership, Message

    ada, bob, reader = people["ada"], people["bob"], people["reader"]
    now = clock.now()
    room = await Conversation.create(kind=ROOM, name="busy", name_key=room_key("busy"), is_open=True, last_seq=n)
    await Membership.bulk_create([Membership(user_id=p.id, conversation_id=room.id, last_read_seq=n)
                                  for p in (ada, bob, reader)])
    await Message.bulk_create([Message(conversation_id=room.id, author_id=ada.id, author_name="ada", body=f"parent {k}",
                                       seq=k, version_seq=k, created_at=now) for k in range(1, n + 1)], batch_size=500)
    parents = await Message.filter(conversation_id=room.id).order_by("seq").values_list("id", flat=True)
    await Conversation.bulk_create([Conversation(kind=THREAD, parent_message_id=pid, parent_id=room.id, last_seq=2,
                                                 created_by_id=bob.id) for pid in parents], batch_size=500)
    made = dict(await Conversation.filter(parent_id=room.id, kind=THREAD).values_list("parent_message_id", "id"))
    ids = [made[pid] for pid in parents]
    await Message.bulk_create([Message(conversation_id=tid, author_id=bob.id, author_name="bob", body=f"reply {s}",
                                       seq=s, version_seq=s, created_at=now) for tid in ids for s in (1, 2)],
                              batch_size=500)
    follows = [Membership(user_id=reader.id, conversation_id=tid, last_read_seq=0 if k < unread else 2)
               for k, tid in enumerate(ids)]
    follows += [Membership(user_id=bob.id, conversation_id=tid, last_read_seq=2) for tid in ids]
    await Membership.bulk_create(follows, batch_size=500)
    out = {"threads": n, "unread": unread}
    reads = (("followed", lambda: threads.followed(reader)), ("counts", lambda: threads.followed_counts(reader)))
    for name, call in reads:
        seconds = []
        for k in range(runs + 3):
            started = time.perf_counter()
            found = await call()
            if k >= 3:
                seconds.append(time.perf_counter() - started)
        out[name] = summary(seconds)
        out[name]["answer"] = len(found) if name == "followed" else list(found)
    return out


async def seed_page(people: dict) -> int:
    """Room "page": an opening message, then 50 each replying to the one before, with 3 reactions
    and a thread of one reply; all through the services. Its id."""
    from app.chat import reactions, threads
    from app.chat import service as chat
    from app.chat.conversations import room_key
    from app.models import ROOM, Conversation, Membership

    room = await Conversation.create(kind=ROOM, name="page", name_key=room_key("page"), is_open=True)
    await Membership.bulk_create([Membership(user_id=p.id, conversation_id=room.id) for p in people.values()])
    names = list(people)
    previous = await chat.post(people["ada"], room, "Where the conversation starts, with **some** _formatting_.")
    for k in range(50):
        author = people[names[k % 3]]
        previous = await chat.post(author, room, f"Answer {k}: see `code {k}` and the **plan** for step {k}.",
                                   reply_to=previous.id)
        for who, emoji in zip(names[:3], EMOJI, strict=True):
            await reactions.react(people[who], previous.id, emoji)
        thread = await threads.open_thread(people["cyd"], previous.id)
        await chat.post(people["cyd"], thread, f"A word in the thread of answer {k}.")
    # All read: the page opens on the latest 50 (not on the first unread, the opening message).
    last = (await Conversation.get(id=room.id)).last_seq
    await Membership.filter(conversation_id=room.id).update(last_read_seq=last)
    return room.id


async def time_previews(people: dict, host: str, runs: int) -> dict:
    """Post → card ready: a post with a link to a new article (and image), then work_due."""
    from app.chat import events
    from app.chat import service as chat
    from app.models.links import READY, LinkPreview
    from app.runtime import runtime

    room = await chat.general()
    posts, ready, states, heard = [], [], set(), set()
    async with runtime().broker.subscribe([events.topic(room.id)]) as subscription:
        for k in range(runs + 2):
            started = time.perf_counter()
            message = await chat.post(people["ada"], room, f"have a look: http://{host}/a/{k}")
            posted = time.perf_counter()
            drain(subscription)
            done = await runtime().links.work_due()
            finished = time.perf_counter()
            states.add((done, (await LinkPreview.get(message_id=message.id)).state))
            heard.add(drain(subscription))
            if k >= 2:
                posts.append(posted - started)
                ready.append(finished - posted)
    return {"post": summary(posts), "ready": summary(ready), "jobs_and_states": sorted(states),
            "events": sorted(heard), "all_ready": states == {(1, READY)}}


async def time_cut(host: str, runs: int) -> dict:
    """fetch_page of the 10 MB page: the body bytes it took from the connection, and its time."""
    from unittest import mock

    from app.links import fetch

    taken, seconds, outcome = [], [], set()
    original = fetch.read

    async def counting(response, limit, sink):
        stream = response.content

        class Counted:
            async def iter_chunked(self, n):
                async for chunk in stream.iter_chunked(n):
                    taken[-1] += len(chunk)
                    yield chunk

        response.content = Counted()
        try:
            return await original(response, limit, sink)
        finally:
            response.content = stream

    with mock.patch.object(fetch, "read", counting):
        for _ in range(runs):
            taken.append(0)
            started = time.perf_counter()
            try:
                page = await fetch.fetch_page(f"http://{host}/huge", allowed=fetch.allowed_hosts(host))
                outcome.add(f"a page titled {page.title!r}")
            except fetch.Refused as refused:
                outcome.add(f"refused: {refused}")
            seconds.append(time.perf_counter() - started)
    return {**summary(seconds), "page_bytes": 10 * 1024 * 1024, "max_bytes_taken": max(taken), "limit": CUT_LIMIT,
            "within": max(taken) <= CUT_LIMIT, "outcome": sorted(outcome)}


# --- through a real server ----------------------------------------------------------------------------

def renumber_room(url: str, room: int) -> None:
    """Every message of the room takes a new, higher number (as an edit would give it): no fragment
    of the room is in the render cache any more."""
    shift = ("UPDATE messages SET version_seq = version_seq + (SELECT last_seq FROM conversations WHERE id = {p}) "
             "WHERE conversation_id = {p}")
    top = ("UPDATE conversations SET last_seq = (SELECT MAX(version_seq) FROM messages WHERE conversation_id = {p}) "
           "WHERE id = {p}")
    if url.startswith("sqlite://"):
        con = sqlite3.connect(url.removeprefix("sqlite://"), timeout=30, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute(shift.format(p="?"), [room, room])
            con.execute(top.format(p="?"), [room, room])
            con.execute("COMMIT")
        finally:
            con.close()
        return

    async def bump() -> None:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                await conn.execute(shift.format(p="$1"), room)
                await conn.execute(top.format(p="$1"), room)
        finally:
            await conn.close()

    asyncio.run(bump())


def counters(body: bytes) -> float:
    """KB of the sidebar's per-thread counts of followed threads (the Threads entry's
    data-thread-counts: only the threads with something unread)."""
    start = body.find(b'data-thread-counts="')
    return round((body.find(b'"', start + 20) + 1 - start) / 1024, 1) if start >= 0 else 0.0


def time_pages(url: str, page_room: int, runs: int) -> dict:
    out: dict = {}
    with page_client(url, "reader") as get:
        for name, path, cold in (("threads", "/chat/threads", False), ("page warm", f"/chat/{page_room}", False),
                                 ("page cold", f"/chat/{page_room}", True)):
            seconds, statuses = [], set()
            for k in range(runs + 3):
                if cold:
                    renumber_room(url, page_room)
                took, status, body = get(path)
                statuses.add(status)
                if k >= 3:
                    seconds.append(took)
            out[name] = {**summary(seconds), "status": sorted(statuses), "kb": round(len(body) / 1024, 1),
                         "quotes": body.count(b'class="reply-quote"'), "reactions": body.count(b'class="reaction"'),
                         "summaries": body.count(b'class="thread-summary"'), "thread_counts_kb": counters(body)}
    return out


# --- the whole run -------------------------------------------------------------------------------------

@contextlib.contextmanager
def scratch(kind: str, folder: Path):
    """A new migrated database's URL, dropped after."""
    with (contextlib.nullcontext(f"sqlite://{folder / 'messages.sqlite3'}") if kind == "SQLite"
          else pg_scratch(f"huddle_bench_messages_{uuid.uuid4().hex[:8]}")) as url:
        migrate(url, folder / "data")
        yield url


def run(quick: bool = False, report=None) -> dict:
    report = report or (lambda text: print(text, file=sys.stderr, flush=True))
    runs = 15 if quick else 40
    threads, unread = (300, 30) if quick else (1000, 100)
    from bench.run import machine

    results: dict = {"when": time.strftime("%Y-%m-%d"), "runs": runs, "databases": {}, "machine": machine(),
                     "load": [round(x, 1) for x in os.getloadavg()]}  # (the other work on the machine)
    for kind in ("SQLite", "PostgreSQL"):
        with tempfile.TemporaryDirectory() as folder, scratch(kind, Path(folder)) as url:
            report(f"messages: {kind}, in process")
            row = in_child(__file__, "measure", url, str(Path(folder) / "data"), runs, threads, unread)
            report(f"messages: {kind}, through a server")
            row["pages"] = time_pages(url, row["page_room"], runs)
            results["databases"][kind] = row
    results["load"] += [round(x, 1) for x in os.getloadavg()]
    return results


# --- the report ----------------------------------------------------------------------------------------

def cell(c: dict) -> str:
    return f"{c['p50_ms']:g} / {c['p95_ms']:g} ms" if "p50_ms" in c else "—"


def times(c: dict, base: dict) -> str:
    return f"{c['p50_ms'] / base['p50_ms']:.1f}×" if c.get("p50_ms") and base.get("p50_ms") else "—"


def table(results: dict) -> str:
    dbs = list(results["databases"])
    rows = {db: results["databases"][db] for db in dbs}
    first, m = rows[dbs[0]], results.get("machine", {})
    load = results.get("load", [])
    lines = [f"Measured {results['when']} by `bench/messages.py` on {m.get('cpu', '—')} ({m.get('cores', '—')} "
             f"cores; load average {' at the start, '.join(map(str, load[::3]))} at the end), "
             f"each database a scratch one: richer messages' changes through app.chat's services in process "
             "(the broker in memory, one subscriber counting what each publishes), the Threads reads in process, "
             "the pages through Hypercorn (one keep-alive connection, server and client on cores of their own); "
             f"p50 / p95 of {results['runs']} runs; × post: p50 against a plain post in the same room and database."
             + (" On a machine this busy, times vary up to 2× from one run to the next; the × post ratios far less."
                if load and load[0] > (m.get("cores") or 1) else ""),
             "", "| measure | " + " | ".join(f"{db} | × post" for db in dbs) + " | events |",
             "|---|" + "---:|---:|" * len(dbs) + "---:|"]

    def line(label, get, events="", ratio=True):
        cells = []
        for db in dbs:
            c = get(rows[db])
            cells += [cell(c), times(c, rows[db]["ops"]["post"]) if ratio else ""]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {events} |")

    labels = {"post": "post, plain (the baseline)", "reply": "post with `reply_to` (a quote; its author mentioned)",
              "thread reply": "reply in a thread (with the parent's renumber)", "reaction": "reaction toggle",
              "edit, 3 quoted": "edit of a message 3 replies quote (each renumbered)"}
    for op in OPS:
        line(labels[op], lambda r, op=op: r["ops"][op], "/".join(map(str, first["ops"][op]["events"])))
    line("link preview: post → card ready (`work_due`: fetch, image stored, renumber)",
         lambda r: r["preview"]["ready"], "/".join(map(str, first["preview"]["events"])))
    t = first["threads"]
    line(f"`threads.followed`, {t['threads']:,} threads followed ({t['unread']} unread)",
         lambda r: r["threads"]["followed"], ratio=False)
    line("`threads.followed_counts` (the sidebar's Threads entry)", lambda r: r["threads"]["counts"], ratio=False)
    line("GET /chat/threads, the same person", lambda r: r["pages"]["threads"], ratio=False)
    line("GET /chat/<id>: 50 messages, each with a quote, 3 reactions, a thread: warm",
         lambda r: r["pages"]["page warm"], ratio=False)
    line("the same, cold (every message renumbered before each GET)", lambda r: r["pages"]["page cold"], ratio=False)
    line("the fetcher's cut of a 10 MB page", lambda r: r["cut"], ratio=False)
    cut = max(rows[db]["cut"]["max_bytes_taken"] for db in dbs)
    page = first["pages"]["page warm"]
    lines += ["", f"The cut: at most {cut:,} bytes of the 10 MB body taken (limit 1 MB + 64 KiB = {CUT_LIMIT:,}: "
              f"{'within' if cut <= CUT_LIMIT else '**OVER**'}). Pages: the Threads view "
              f"{first['pages']['threads']['kb']} KB, the conversation {page['kb']} KB ({page.get('quotes', '—')} "
              f"quotes, {page.get('reactions', '—')} reactions, {page.get('summaries', '—')} thread summaries); "
              f"of each, {page.get('thread_counts_kb', '—')} KB are the sidebar's per-thread counts (only those "
              f"with something unread) of the {first['threads']['threads']:,} followed threads."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main({"measure": measure}, args.child)
        return
    results = run(args.quick)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "messages.json").write_text(json.dumps(results, indent=2, default=str))
    print(table(results))


if __name__ == "__main__":
    main()
