"""Who is told of what, decided once per message after it commits (chat's signals), from numbers:

- the conversation's members whose level (app/models/notify.effective_level) is "all", and the
  people mentioned whose level is not "nothing" (a person mentioned in an open room they have not
  joined has the rooms' default: mentions);
- never the sender; never someone with a visible page on that conversation right now
  (runtime().viewing, told by the pages' sockets); never for a message they have already read
  (last_read_seq at decision time); never through a session that ended (push subscriptions die
  with their session; live sockets close at logout).
- An edit that adds mentions notifies only the people it added.

Each person is told on their devices by Web Push (app/notify/push.py, a queue, never on the
request path) and on their open pages by one live event (rendered once for everyone told of this
message), which a hidden tab shows as a desktop notification (static/js/notify.js). Direct
messages and mentions are urgent. Reading the conversation (signals.conversation_read) closes
what was shown, on every device and page, if something was (app/notify/shown.py)."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from quart import render_template

from app import signals
from app.models import DIRECT, ROOM, THREAD, Conversation, Membership, Message, names, reads
from app.models.chat import may_read
from app.models.notify import ALL, NOTHING, effective_level
from app.notify import push, shown
from app.realtime.broker import Event
from app.realtime.events import publish
from app.runtime import runtime
from app.web.urls import path_for

log = logging.getLogger("huddle.notify")

BODY_MAX = 200          # characters of the message a notification shows (the push is cut again to fit)
FETCH_MENTIONED = 500   # past this many people mentioned (@everyone), read every member instead of a list


@dataclass(frozen=True, slots=True)
class Told:
    """Who is told of one message: each person, and whether it is urgent for them."""
    urgent: frozenset[int]
    normal: frozenset[int]

    @property
    def everyone(self) -> frozenset[int]:
        return self.urgent | self.normal


async def recipients(message: Message, mentioned: set[int], *, only: set[int] | None = None) -> Told:
    """Who is told of this message now, by the rules above; with `only`, just those of them (an
    edit's newly mentioned people)."""
    conversation = await _conversation(message)
    mentioned = set(mentioned)
    if conversation.kind in (DIRECT, THREAD) or len(mentioned) > FETCH_MENTIONED:  # a thread: its followers
        found = await reads.rows("SELECT user_id, notify, last_read_seq FROM memberships WHERE conversation_id = ?",
                                 [conversation.id])
    else:
        ids = sorted(mentioned)
        wanted = f" OR user_id IN ({', '.join('?' * len(ids))})" if ids else ""
        found = await reads.rows("SELECT user_id, notify, last_read_seq FROM memberships "
                                 f"WHERE conversation_id = ? AND (notify = ?{wanted})", [conversation.id, ALL, *ids])
    members = {row["user_id"]: row for row in found}
    candidates = set()
    for user_id, row in members.items():
        level = effective_level(conversation.kind, row["notify"])
        if level == ALL or (level != NOTHING and user_id in mentioned):
            if row["last_read_seq"] < message.seq:
                candidates.add(user_id)
    if conversation.kind == ROOM and conversation.is_open and conversation.archived_at is None:
        candidates |= mentioned - set(members)  # readers of an open room they have not joined
    candidates.discard(message.author_id)
    if conversation.kind == THREAD:  # following is not access: only who may read its parent now
        candidates = await _may_read_parent(conversation, candidates)
    if only is not None:
        candidates &= only
    if candidates:
        candidates -= await runtime().viewing.watching(conversation.id, candidates)
    urgent = candidates if conversation.kind == DIRECT else candidates & mentioned
    return Told(frozenset(urgent), frozenset(candidates - urgent))


async def _may_read_parent(thread: Conversation, user_ids: set[int]) -> set[int]:
    parent = await Conversation.get(id=thread.parent_id)
    members = set(await Membership.filter(conversation_id=parent.id, user_id__in=sorted(user_ids))
                  .values_list("user_id", flat=True)) if user_ids else set()
    return {uid for uid in user_ids if may_read(parent, uid if uid in members else None)}


async def _conversation(message: Message) -> Conversation:
    """The message's conversation, loaded once (a post sets it; an edit's message may not have it)."""
    loaded = getattr(message, "_conversation", None)  # Tortoise keeps a fetched relation there
    if not isinstance(loaded, Conversation) or loaded.id != message.conversation_id:
        message.conversation = loaded = await Conversation.get(id=message.conversation_id)
    return loaded


async def notification(message: Message, urgent: bool) -> push.Notification:
    """What the person reads: "#room" or the sender's name, the text cut (or not shown, with
    HUDDLE_PUSH_PREVIEW=off), and the message's permalink."""
    conversation = await _conversation(message)
    author = (await names.labels([message.author_id])).get(message.author_id)
    sender = author.name if author else message.author_name
    title = f"#{conversation.name}" if conversation.kind == ROOM else sender
    if conversation.kind == THREAD:  # "Thread in #dev", "Thread with ada"
        parent = await Conversation.get(id=conversation.parent_id)
        title = f"Thread in #{parent.name}" if parent.kind == ROOM else f"Thread with {sender}"
    if runtime().settings.push_preview:
        text = " ".join(message.body.split())
        text = text if len(text) <= BODY_MAX else text[:BODY_MAX - 1].rstrip() + "…"
    else:
        text = push.NO_PREVIEW  # nor on the page's desktop notification
    body = f"{sender}: {text}" if conversation.kind in (ROOM, THREAD) else text
    url = path_for("chat.permalink", conversation_id=conversation.id, message_id=message.id)
    return push.Notification(conversation.id, message.id, title, body, url, urgent)


async def notify(message: Message, mentioned: set[int], *, only: set[int] | None = None) -> Told:
    """Decide who is told of a message and tell them: their devices (queued pushes) and their
    open pages (one event). A failure is logged: the message is posted whatever happens here."""
    try:
        told = await recipients(message, mentioned, only=only)
        if not told.everyone:
            return told
        await shown.mark(told.everyone, message.conversation_id, message.seq)
        for group, urgent in ((told.urgent, True), (told.normal, False)):
            if group:
                what = await notification(message, urgent)
                await push.send(sorted(group), what)
                await _tell_pages(group, what)
        return told
    except Exception:  # noqa: BLE001 - notifying must never undo or fail a post
        log.exception("could not notify of message %s", message.id)
        return Told(frozenset(), frozenset())


async def _tell_pages(user_ids, what: push.Notification) -> None:
    """One event, rendered once, on each person's topic: a hidden tab shows it."""
    html = await render_template("notify/_notification_event.html", action="show", notification=what,
                                 tag=push.tag(what.conversation_id))
    for user_id in sorted(user_ids):
        await publish(Event("notification", f"user:{user_id}", html=html))


async def read(user_id: int, conversation_id: int, seq: int) -> bool:
    """The person read the conversation up to seq: if that covers what they were notified of
    there, close it on every device (a close push) and every open page (an event)."""
    try:
        if not await shown.take(user_id, conversation_id, seq):
            return False
        await push.close(user_id, conversation_id)
        html = await render_template("notify/_notification_event.html", action="close",
                                     conversation_id=conversation_id, tag=push.tag(conversation_id))
        await publish(Event("notification", f"user:{user_id}", html=html))
        return True
    except Exception:  # noqa: BLE001 - a read is recorded whatever happens here
        log.exception("could not close the notifications of conversation %s for user %s", conversation_id, user_id)
        return False


async def message_posted(message: Message, mentioned: set[int]) -> None:
    await notify(message, mentioned)
    # What one posts, one has read (chat moved the author's read position with the post): a reply
    # from the laptop closes the conversation's notification on the phone.
    await read(message.author_id, message.conversation_id, message.seq)


async def mentions_added(message: Message, added: set[int]) -> None:
    await notify(message, added, only=set(added))


def subscribe() -> None:
    """At start-up (create_app): notify acts on what chat announces."""
    signals.message_posted.connect(message_posted)
    signals.mentions_added.connect(mentions_added)
    signals.conversation_read.connect(read)
