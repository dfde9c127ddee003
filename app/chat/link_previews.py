"""A message's link preview as chat keeps it: the pending row a post or an edit writes in its own
transaction for the message's first link (when previews are on), what a deletion does to it, and
what a message shows of it (`preview_lists`, `preview_data`).

The preview itself is made by a job off the request path (app/links/worker.py), which is also
where its sender's removal and the site's switch live (app/links/service.py): links sit above
chat, as notify does. A post or an edit only writes the row; `settle`, after commit, wakes this
process's worker and releases an image nobody shows any more."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from app import clock
from app.chat import markdown
from app.files import service as files
from app.models import Message
from app.models.links import PENDING, READY, REMOVED, LinkPreview, SiteSetting
from app.runtime import runtime
from app.web.urls import path_for

SETTING = "link_previews"  # a SiteSetting: "off" turns new previews off
URL_LENGTH = 2048


@dataclass
class Change:
    """What a message's transaction did to its preview, finished after commit by `settle`."""

    wake: bool = False
    released: list[int] = field(default_factory=list)


def first_link(text: str) -> str | None:
    """The first http(s) address the reader sees linked in a message's text (chat's own Markdown:
    bare addresses, `www.` ones and [text](url); never one in code, never a mail address)."""
    for block in markdown.MD.parse(markdown._source(text or ""), {}):
        for token in block.children or ():
            if token.type == "link_open":
                href = token.attrGet("href") or ""
                parts = urlsplit(href)
                if parts.scheme.lower() in ("http", "https") and parts.hostname and len(href) <= URL_LENGTH:
                    return href
    return None


async def enabled() -> bool:
    """Are new previews made? (On unless the site's configuration, HUDDLE_LINK_PREVIEWS, or an
    administrator turned them off.)"""
    if not runtime().settings.link_previews:
        return False
    row = await SiteSetting.get_or_none(key=SETTING)
    return row is None or row.value != "off"


async def on_post(conn, message_id: int, body: str) -> Change:
    """In a new message's transaction: a pending preview of its first link, due now."""
    url = first_link(body)
    if url is None or not await enabled():
        return Change()
    await LinkPreview.create(message_id=message_id, url=url, state=PENDING, due_at=clock.now(), using_db=conn)
    return Change(wake=True)


async def on_edit(conn, message_id: int, body: str) -> Change:
    """In an edit's transaction: the same first link keeps its preview; another one replaces it,
    none removes it. One its sender removed stays removed (never fetched again for this
    message). The edit's own number covers what this changes on screen."""
    row = await LinkPreview.filter(message_id=message_id).using_db(conn).first()
    if row is not None and (row.state == REMOVED or row.url == first_link(body)):
        return Change()
    change = await on_delete(conn, message_id, row)
    made = await on_post(conn, message_id, body)
    return Change(wake=made.wake, released=change.released)


async def on_delete(conn, message_id: int, row: LinkPreview | None = None) -> Change:
    """In a deletion's transaction: the preview goes, and its image once nobody shows it."""
    row = row or await LinkPreview.filter(message_id=message_id).using_db(conn).first()
    if row is None:
        return Change()
    await LinkPreview.filter(id=row.id).using_db(conn).delete()
    return Change(released=[row.image_id] if row.image_id else [])


async def settle(change: Change) -> None:
    """After commit: wake this process's worker; remove images no preview or file uses now."""
    if change.wake and runtime().links is not None:
        runtime().links.wake()
    if change.released:
        await files.release(change.released)


async def preview_lists(messages) -> None:
    """Give each message its ready preview (`link_preview`, with its image's blob) or None, in one
    query for all of them (app/chat/events.py extras)."""
    by_id = {m.id: m for m in messages}
    for message in by_id.values():
        message.link_preview = None
    if not by_id:
        return
    for row in await LinkPreview.filter(message_id__in=list(by_id), state=READY).select_related("image"):
        by_id[row.message_id].link_preview = row


def preview_data(message: Message) -> dict | None:
    """A message's preview for programs (None until it is ready, and once removed): its image is
    served by Huddle (the API's path), never by the site it came from."""
    row = getattr(message, "link_preview", None)
    if row is None or message.deleted_at is not None:
        return None
    image = path_for("api.message_preview_image", message_id=message.id) if row.image_id else None
    return {"url": row.url, "title": row.title, "description": row.description, "site": row.site, "image": image}
