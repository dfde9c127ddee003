"""The sidebar's context, cached per person in this process and keyed by what it is made of,
read from the database in one query on every page (so a stale entry is never served, whichever
worker or host made the change): each of the person's memberships (rooms, directs and followed
threads) with its conversation's last number (every message, edit, deletion and header change
takes one: unread and mention counts, a rename, an archive), their read position, notification
level and visit stamp; the open rooms' header numbers (the "More rooms" list); the number and
newest id of accounts (someone made or removed) and the names' epoch (app/models/names.py epoch:
a rename, a display name, a handle, a picture). Presence is read live on every page; the page's
current conversation is set per request. Bounded: the least recently used entries go first."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable

from markupsafe import Markup
from quart import current_app

from app.models import ROOM, User, names, reads
from app.realtime import events as live_events

SIZE = 2048  # people (one entry each: the state it was built from and the context); a few KB each

FINGERPRINT = """
    SELECT 'm' AS k, m.conversation_id AS a, c.last_seq AS b, m.last_read_seq AS r, m.notify AS t,
           m.last_visited_at AS v
      FROM memberships m JOIN conversations c ON c.id = m.conversation_id WHERE m.user_id = ?
    UNION ALL
    SELECT 'r', c.id, c.header_seq, 0, NULL, NULL FROM conversations c
     WHERE c.kind = ? AND c.is_open = ? AND c.archived_at IS NULL
    UNION ALL
    SELECT 'u', COUNT(*), MAX(u.id), 0, (SELECT value FROM site_settings WHERE key = ?), NULL FROM users u"""

KEY = "huddle.sidebar_cache"  # in the app's extensions: one cache per app (tests run several sites in a process)
stats = {"hits": 0, "misses": 0}  # read by tests and bench to tell a served entry from a built one


async def fingerprint(me: User) -> tuple:
    """Everything the person's sidebar is made of, as numbers and stamps (one query)."""
    found = await reads.rows(FINGERPRINT, [me.id, ROOM, True, names.EPOCH])
    return tuple(sorted((row["k"], row["a"], row["b"], row["r"], row["t"] or "", str(row["v"] or ""))
                        for row in found))


async def cached(me: User, build: Callable[[User], Awaitable[dict]]) -> dict:
    """The sidebar's context for `me` (a fresh dict each time: callers may add to it), built by
    `build` only when something it is made of has changed; presence read live. The state is read
    before building: a change in between is in the entry but not its key, so the next page builds
    again (never the other way round: an entry is never older than its key)."""
    state = await fingerprint(me)
    held = entries()
    found = held.get(me.id)
    if found is not None and found[0] == state:
        stats["hits"] += 1
        held.move_to_end(me.id)
        entry = found[1]
    else:  # never built, or something it is made of changed: built anew, the old one replaced
        stats["misses"] += 1
        entry = {**await build(me), "_renders": {}}
        held[me.id] = (state, entry)
        held.move_to_end(me.id)
        while len(held) > SIZE:
            held.popitem(last=False)
    # Read with the key, for the page's messages (app/chat/events.py message_fragments): the
    # accounts' number and newest id and the names' epoch, which every change of a label changes.
    names_key = next((a, b, t) for k, a, b, _, t, _ in state if k == "u")
    return {**entry, "names_key": names_key,
            "online_ids": await live_events.online_ids(p.id for p in entry["people"])}


RENDERS = 16  # rendered sidebars kept per entry: the conversations a person goes between, presence as it was


async def rendered(context: dict, render: Callable[[dict], Awaitable[str]]) -> Markup:
    """The sidebar's HTML for a context cached() gave: rendered once per entry (what it is made
    of), conversation shown and set of people online, and reused while those stay."""
    renders = context["_renders"]
    current = context.get("current")
    key = (current.id if current is not None else None, frozenset(context["online_ids"]))
    if (html := renders.get(key)) is None:
        if len(renders) >= RENDERS:
            renders.clear()
        html = renders[key] = Markup(await render(context))
    return html


def entries() -> OrderedDict[int, tuple[tuple, dict]]:
    return current_app.extensions.setdefault(KEY, OrderedDict())
