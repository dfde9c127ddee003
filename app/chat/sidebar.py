"""What the sidebar of every chat page shows (the person's rooms and conversations, unread and
mention counts, people and who is online) and a conversation's title: gathered in a handful of
queries for the pages that show them (app/chat/routes.py and the sidebar's own fragment)."""
from __future__ import annotations

from markupsafe import Markup
from quart import render_template

from app.chat import service, sidebar_cache, titles, visits
from app.models import THREAD, Conversation, User, names
from app.models.notify import NOTHING, effective_level


async def sidebar_context(me: User, current: Conversation | None = None) -> dict:
    """The sidebar's context, from the person's cached one while nothing it is made of changed
    (app/chat/sidebar_cache.py), with the conversation the page shows."""
    return {**await sidebar_cache.cached(me, _built), "current": current}


async def sidebar_html(context: dict) -> Markup:
    """The sidebar (templates/chat/_sidebar.html) for a sidebar_context(), rendered once and
    reused while nothing it shows changed (app/chat/sidebar_cache.py rendered)."""
    return await sidebar_cache.rendered(context, lambda ctx: render_template("chat/_sidebar.html", **ctx))


async def _built(me: User) -> dict:
    mine = await service.my_conversations(me)
    unread, mention_counts = await service.unread_counts(me), await service.mention_counts_by_id(me.id)
    rooms = sorted((c for c, _ in mine if c.is_room), key=lambda c: c.name_key or "")
    archived = [c for c in rooms if c.is_archived]  # out of the active list, still reachable
    rooms = [c for c in rooms if not c.is_archived]
    directs = [c for c, _ in mine if not c.is_room]
    people_of = await service.members_of([c.id for c in directs], without=me.id)  # one query for all
    people = await service.people_list(100)
    # Names as they are now, for the people list and the direct conversations' titles.
    labels = await names.labels({p.id for p in people} | titles.member_ids(directs))
    return {
        "labels": labels, "titles": titles.direct_titles(me.id, directs, labels),
        "rooms": rooms, "archived_rooms": archived, "directs": directs, "people_of": people_of,
        "unread": unread, "people": people,
        # Beside each unread count, the unread mentions; a conversation set to "Nothing" shows only those.
        "mention_counts": mention_counts,
        "mentions_total": sum(mention_counts.values()),  # the header's badge (layout.html), not asked again
        "muted": {c.id for c, m in mine if effective_level(c.kind, m.notify) == NOTHING},
        "other_rooms": await service.open_rooms_not_joined(me),
        "last_visit": visits.latest([m for _, m in mine]),
        # The threads I follow: the one "Threads" entry counts their unread replies and mentions.
        "followed_threads": await thread_counts(unread, mention_counts),
    }


THREADS_LISTED = 200  # per-thread counts a page carries at most (the totals are exact all the same)


async def thread_counts(unread: dict[int, int], mentions: dict[int, int]) -> dict:
    """The sidebar's "Threads" entry, from a person's unread and mention counts per conversation
    (all of theirs, followed threads included): the totals of the threads they follow, and per
    thread [unread, mentions] only for those with something unread, the most unread first, at
    most THREADS_LISTED of them (static/js/thread-counts.js keeps them live). A page's size so
    grows with what is unread, never with follows; one query, over the conversations with
    something unread only. Also the hello's snapshot (app/live/socket.py)."""
    busy = {cid for cid, n in unread.items() if n} | {cid for cid, n in mentions.items() if n}
    ids = await Conversation.filter(id__in=busy, kind=THREAD).values_list("id", flat=True) if busy else []
    counts = {cid: [unread.get(cid, 0), mentions.get(cid, 0)] for cid in ids}
    ranked = sorted(counts.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
    return {"unread": sum(u for u, _ in counts.values()), "mentions": sum(m for _, m in counts.values()),
            "listed": {str(cid): pair for cid, pair in ranked[:THREADS_LISTED]}}


def title_of(conversation: Conversation, sidebar: dict) -> str:
    if conversation.is_room:
        return f"#{conversation.name}"
    return sidebar["titles"].get(conversation.id, "Just you")
