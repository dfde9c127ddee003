"""Chat's live events about a conversation's stream, each rendered once (HTML for pages, a dict for
programs) and published to the conversation's topic: its messages (and what they show), its
header, typing. What concerns only a person (their read positions, mentions, memberships and
levels) or every sidebar (the rooms) is in app/chat/user_events.py."""
from __future__ import annotations

from markupsafe import Markup
from quart import current_app, render_template

from app.chat import link_previews, markdown, replies
from app.chat.reaction_lists import reaction_lists, reactions_data
from app.chat.thread_lists import thread_data, thread_lists
from app.files import service as files
from app.models import Conversation, Message, names, reads
from app.models.names import Label
from app.realtime.broker import Event
from app.realtime.events import publish
from app.runtime import runtime


def topic(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


def message_data(message: Message, label: Label | None = None) -> dict:
    """A message for programs: `author` is the author's username as it is now (the name it was
    posted under once the account is removed), `author_display_name` their display name ("")."""
    deleted = message.deleted_at is not None
    return {
        "id": message.id, "conversation_id": message.conversation_id, "seq": message.seq,
        "version": message.version_seq, "author": label.username if label else message.author_name,
        "author_display_name": label.display_name if label else "", "author_id": message.author_id,
        "text": None if deleted else message.body,
        "html": None if deleted else str(markdown.render(message.body, getattr(message, "mentioned", None))),
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None, "deleted": deleted,
        "mentions": [] if deleted else list(getattr(message, "mention_ids", ())),
        "attachments": [] if deleted else [files.attachment_data(a) for a in getattr(message, "attachment_list", ())],
        "reactions": reactions_data(message),
        "thread": thread_data(message),
        "reply_to": replies.reply_data(message),
        "preview": link_previews.preview_data(message),
    }


# Rendered events by (message, version, kind, cursor_only), per app: after a restart, every
# reconnecting page replays the same recent changes; each is rendered once, not once per page.
RENDERED_LIMIT = 4096


FRAGMENT_LIMIT = 20_000


async def messages_data(messages) -> list[dict]:
    """message_data for several messages, with their authors' names as they are now."""
    await author_labels(messages)
    return [message_data(m, m.author_label) for m in messages]


async def author_labels(messages) -> None:
    """Give each message (Message objects) its author's label as it is now, in one go: what
    message_html and message_event show (app/models/names.py); whom it mentions (mention_lists) and
    its files (app/files/service.py attachment_lists), one query each for all of them."""
    found = await names.labels(m.author_id for m in messages)
    for message in messages:
        message.author_label = found.get(message.author_id)
    await extras(messages)


async def extras(messages) -> None:
    """What a message shows beside its text, loaded for several messages in one query each (a
    loader skips the messages that have it already): whom it mentions, its files, its reactions."""
    await mention_lists([m for m in messages if not hasattr(m, "mention_ids")])
    await files.attachment_lists([m for m in messages if not hasattr(m, "attachment_list")])
    await reaction_lists([m for m in messages if not hasattr(m, "reaction_list")])
    await thread_lists([m for m in messages if not hasattr(m, "thread_summary")])
    await replies.reply_lists([m for m in messages if not hasattr(m, "reply_quote")])
    await link_previews.preview_lists([m for m in messages if not hasattr(m, "link_preview")])


async def mention_lists(messages) -> None:
    """Give each message whom it mentions, from the rows (app/chat/mentions.py), in one query:
    `mention_ids` (everyone it reaches: programs get them) and `mentioned` (the username keys it
    names -> their ids: the text highlights exactly those)."""
    by_id = {m.id: m for m in messages}
    for message in by_id.values():
        message.mention_ids, message.mentioned = [], {}
    if not by_id:
        return
    rows = await reads.rows(
        "SELECT mn.message_id AS message_id, mn.user_id AS user_id, mn.everyone AS everyone, u.username_key AS name "
        f"FROM mentions mn JOIN users u ON u.id = mn.user_id WHERE mn.message_id IN ({', '.join('?' * len(by_id))}) "
        "ORDER BY mn.user_id", list(by_id))
    for row in rows:
        message = by_id[row["message_id"]]
        message.mention_ids.append(row["user_id"])
        if not row["everyone"]:
            message.mentioned[row["name"]] = row["user_id"]


async def message_body(message: Message) -> Markup:
    """A message's text as HTML (app/chat/markdown.py), its mentions highlighted: for
    templates/chat/_message.html, whichever way the message was loaded."""
    if not hasattr(message, "mentioned"):
        await mention_lists([message])
    return markdown.render(message.body, message.mentioned)


async def _label(message: Message) -> Label | None:
    if not hasattr(message, "author_label"):
        await author_labels([message])
    return message.author_label


async def _epoch(message: Message) -> str:
    """The names' epoch (app/models/names.py epoch) a render of this message is keyed by: read once
    for a page's or an event's messages (message_fragments, message_event set it)."""
    if not hasattr(message, "names_epoch"):
        message.names_epoch = await names.epoch()
    return message.names_epoch


async def message_html(message: Message) -> Markup:
    """A message's fragment (templates/chat/_message.html), rendered once per version and reused
    by every page load, history page and answer that shows it (it is the same for every viewer),
    as Campfire caches its message partials. Keyed by what the fragment shows that can change:
    the version (edits, deletion), the author's account (a removed account shows as such) and
    the author's name as it is now, the names' epoch (a rename anywhere is a new key: the names
    in a reply's quote, a thread's summary and reaction chips are never stale, on any worker),
    and the text renderer's version (an upgrade that formats differently renders every message
    again)."""
    label = await _label(message)
    key = (message.id, message.version_seq, message.author_id, label, await _epoch(message), markdown.VERSION)
    cache = runtime().message_html
    if (html := cache.get(key)) is None:
        await extras([message])
        html = Markup(await render_template("chat/_message.html", message=message, author=label))
        if len(cache) >= FRAGMENT_LIMIT:
            cache.clear()
        cache[key] = html
    return html


LABELS = "huddle.author_labels"  # in the app's extensions: (names_key, {user id: Label or None})
LABELS_LIMIT = 4096


async def author_labels_for(user_ids: set, names_key: tuple) -> dict[int, Label]:
    """These people's labels, kept per app for a state of names read from the database (the
    accounts' number and newest id, the names' epoch: someone made or removed, or any label
    changed — app/accounts/names.py announce — makes a new one), asked only for the people not
    kept yet. Read after their key, so a label kept is never older than it (as the sidebar's)."""
    held = current_app.extensions.get(LABELS)
    if held is None or held[0] != names_key:
        held = current_app.extensions[LABELS] = (names_key, {})
    known = held[1]
    wanted = {uid: known.get(uid, False) for uid in user_ids if uid is not None}  # False: not kept yet
    if missing := [uid for uid, label in wanted.items() if label is False]:
        found = await names.labels(missing)
        fetched = {uid: found.get(uid) for uid in missing}  # None: no such account
        if len(known) + len(fetched) > LABELS_LIMIT:
            known.clear()
        known.update(fetched)
        wanted.update(fetched)
    return {uid: label for uid, label in wanted.items() if label}


def _field(row, name: str):
    return row[name] if isinstance(row, dict) else getattr(row, name)


async def message_fragments(rows, names_key: tuple | None = None) -> list[Markup]:
    """The fragments of these messages, in order. Rows may be light (dicts of id, version_seq and
    author_id, as a page's query returns them): only the ones not rendered yet are loaded, in one
    query, and rendered. A warm page builds no Message objects at all. `names_key`: the state of
    names the caller has read already (the conversation page, with its sidebar's key:
    app/chat/sidebar_cache.py), its authors' labels then kept for it (author_labels_for); without
    it, the labels and the names' epoch are read here (one or two small queries)."""
    cache = runtime().message_html
    authors = {_field(r, "author_id") for r in rows}
    if names_key is None:
        found, epoch = await names.labels(authors), await names.epoch()
    else:
        found, epoch = await author_labels_for(authors, names_key), names_key[2]
    keys = [(_field(r, "id"), _field(r, "version_seq"), _field(r, "author_id"),
             found.get(_field(r, "author_id")), epoch, markdown.VERSION) for r in rows]
    missing = {key[0] for key in keys if key not in cache}
    if missing:
        full = {r.id: r for r in rows if isinstance(r, Message) and r.id in missing}
        if rest := missing - set(full):
            full.update({m.id: m for m in await Message.filter(id__in=rest)})
        await extras(list(full.values()))
        for message in full.values():
            message.author_label, message.names_epoch = found.get(message.author_id), epoch
            await message_html(message)
    return [cache.get(key) or await message_html(await Message.get(id=key[0])) for key in keys]


async def message_event(message: Message, kind: str, *, cursor_only: bool = False) -> Event:
    """The event for a message's latest change: the same rendering whether it goes out live or
    is replayed from the database for a page catching up."""
    label = await _label(message)
    key = (message.id, message.version_seq, message.author_id, label, await _epoch(message), markdown.VERSION, kind,
           cursor_only)
    _rendered = runtime().rendered_events
    if (event := _rendered.get(key)) is None:
        await extras([message])
        html = await render_template("chat/_message_event.html", message=message, kind=kind, cursor_only=cursor_only)
        # A cursor-only event (posted and deleted while the reader was away) moves a page's
        # cursor and has nothing for programs: no data, so no JSON frame.
        event = Event(kind, topic(message.conversation_id), html=html,
                      data={} if cursor_only else message_data(message, label), seq=message.version_seq)
        if len(_rendered) >= RENDERED_LIMIT:
            _rendered.clear()
        _rendered[key] = event
    return event


async def message_changed(message: Message, kind: str) -> None:
    await publish(await message_event(message, kind))


async def reaction_changed(message: Message, kind: str, emoji: str, user_id: int) -> None:
    """A reaction added or taken back (app/chat/reactions.py): pages get the message again, as an
    edit's (the same render); programs get `reaction.added` / `reaction.removed` at the message's
    new number. A replay gives the message's latest version (`message.edited`, with all its
    reactions), so a program that was away ends where one that stayed did."""
    edited = await message_event(message, "message.edited")
    await publish(Event(kind, edited.topic, html=edited.html, seq=message.version_seq, data={
        "message_id": message.id, "conversation_id": message.conversation_id, "emoji": emoji,
        "user_id": user_id, "seq": message.version_seq}))


def room_data(room: Conversation) -> dict:
    """A room's header, as programs get it in `room.changed`."""
    return {"conversation_id": room.id, "name": room.name, "topic": room.topic or "", "is_open": bool(room.is_open),
            "archived": room.is_archived}


async def room_event(room: Conversation) -> Event:
    """A room's header as it is now, numbered with its latest change: the same event live and
    in a replay (a reader catching up gets the header once, in its place among the messages)."""
    html = await render_template("chat/_room_event.html", room=room)
    return Event("room.changed", topic(room.id), html=html, data=room_data(room), seq=room.header_seq)


async def room_changed(room: Conversation) -> None:
    await publish(await room_event(room))


async def typing(conversation_id: int, user_id: int, name: str, state: str, shown: str | None = None) -> Event:
    """Someone is typing: pages say their shown name ("Ada Lovelace is typing…"), programs get
    their username (`user`)."""
    html = await render_template("chat/_typing_event.html", conversation_id=conversation_id,
                                 user_id=user_id, name=shown or name, state=state)
    return Event("typing", topic(conversation_id), html=html,
                 data={"conversation_id": conversation_id, "user_id": user_id, "user": name, "state": state})
