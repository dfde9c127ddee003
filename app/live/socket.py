"""The page websocket (/live): one per open page, streaming rendered fragments.

A page is authenticated by its cookie (and a same-site Origin) before the socket is accepted. It
sends small JSON: a `hello` (the conversation it shows and the highest event number it rendered,
the people whose presence and names it shows, and the thread its panel shows with that one's
number), `thread` (its panel now shows this thread, from this number, or none: static/js/thread.js),
`typing` hints and `viewing` (the conversation it shows and whether its tab is visible: nobody is
notified of what they are looking at). It
receives each event's HTML, rendered once for every recipient. Everything else (limits,
catch-up, ordering, typing, presence) is the one live connection's (app/realtime/connection.py):
this is only the page's dialect."""
from __future__ import annotations

import json

from quart import Blueprint, Response, abort, render_template, websocket
from quart_auth import current_user

from app.chat import service as chat
from app.chat.live import rooms
from app.chat.sidebar import thread_counts
from app.models import UserSession, names
from app.realtime import events
from app.realtime.broker import Event
from app.realtime.connection import Connection
from app.realtime.cursor import TooFarBehind
from app.realtime.serving import serve
from app.runtime import runtime
from app.web.security import same_origin
from app.web.urls import MAX_ID, MAX_SEQ

bp = Blueprint("live", __name__)

PRESENCE_ASK_LIMIT = 500  # a page asks for the presence of at most this many people (those it shows)


class PageDialect:
    rooms = rooms
    auth_seconds = None       # the cookie authenticated it before the socket was accepted
    frame_burst = 30          # a page sends little (a hello, typing hints)
    frames_per_second = 5
    max_frame = None          # Hypercorn's own cap (hypercorn.toml) applies

    async def opened(self, conn: Connection) -> None:
        pass

    async def frame(self, conn: Connection, raw: str | bytes) -> None:
        """One frame from the page. Anything malformed is ignored: a page never needs an answer."""
        try:
            message = json.loads(raw)
        except (ValueError, TypeError, RecursionError):  # nesting too deep is malformed too
            return
        if not isinstance(message, dict):
            return
        if message.get("type") == "hello":
            await self._hello(conn, message)
        elif message.get("type") == "typing":
            await conn.typing_hint(message.get("conversation"), message.get("state", "start"))
        elif message.get("type") == "thread":  # static/js/thread.js: the thread its panel shows now (or none)
            await self._thread(conn, message.get("conversation"), message.get("after"))
        elif message.get("type") == "viewing":  # static/js/viewing.js: what it shows, and if the tab is visible
            await conn.viewing(message.get("conversation"), message.get("visible"))

    async def _hello(self, conn: Connection, message: dict) -> None:
        """The page says where it is: it gets what its conversation missed, then what was held
        while it was saying so, then one frame with the presence of the people it shows and every
        unread count, as they are now (so nothing counted twice)."""
        conversation, after = message.get("conversation"), message.get("after")
        if _number(conversation, MAX_ID) and _number(after):  # heard also if not by membership (a thread)
            await conn.watch("page", rooms.topic(conversation), after)
        if message.get("thread") is not None:
            await self._thread(conn, message.get("thread"), message.get("thread_after"))
        await conn.start()
        asked = message.get("presence")
        ids = {uid for uid in asked[:PRESENCE_ASK_LIMIT] if _number(uid, MAX_ID)} if isinstance(asked, list) else set()
        online = await runtime().presence.online(ids)
        # The names of the people it shows, as they are now: a rename while the page was away is
        # not in any conversation's numbered history, so the page learns it here, exactly.
        named = message.get("names")
        named = ({uid for uid in named[:PRESENCE_ASK_LIMIT] if _number(uid, MAX_ID)}
                 if isinstance(named, list) else set())
        labels = (await names.labels(named)).values() if named else ()
        unread, mentions = (await chat.unread_counts_by_id(conn.session.user_id),
                            await chat.mention_counts_by_id(conn.session.user_id))
        # Only what is unread: a zero per membership (every followed thread is one) would be ~12 KB a
        # reconnect at 1,000 follows; the page takes a conversation it is not told of as read.
        await conn.send((await events.presence(online, ids - online, snapshot=True)).html + await render_template(
            "chat/_unread_snapshot.html", counts={cid: n for cid, n in unread.items() if n}, mentions=mentions,
            threads=await thread_counts(unread, mentions))
            + (labels and (await events.names(labels, snapshot=True)).html or ""))

    async def _thread(self, conn: Connection, thread, after) -> None:
        """A thread's panel beside the conversation: its topic followed with its own cursor from
        `after` (anyone who may read it), in place of the panel's thread before; None: closed."""
        if thread is None:
            await conn.watch("panel", None)
        elif _number(thread, MAX_ID) and _number(after):
            if await conn.watch("panel", rooms.topic(thread), after) is None:
                thread = None  # not theirs to follow
        else:
            return
        await conn.view_beside(thread)  # looked at too: nobody is notified of what they are looking at

    def render(self, conn: Connection, event: Event) -> str | None:
        return event.html

    async def too_far_behind(self, conn: Connection, behind: TooFarBehind) -> bool:
        """Replaying would be slower than reloading: the page reloads its state."""
        await conn.send(await render_template("live/_control.html", action="reload", scope="chat"))
        await websocket.close(1000)
        return True

    async def resolve(self, token: str):
        settings = runtime().settings
        return await UserSession.from_token(token, idle=settings.session_idle_seconds,
                                            max_age=settings.session_max_age_seconds)


def _number(value, most: int = MAX_SEQ) -> bool:
    """A whole number a page may send (not a bool, nothing the database could not hold): an
    event number, or with most=MAX_ID a record's id (32-bit: a conversation, a person)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= most


@bp.get("/session")
async def session_status() -> Response:
    """For a page whose socket dropped: is my session still alive? (204, or 401)."""
    if current_user.session is None:
        abort(401)
    return Response("", status=204)


@bp.websocket("/live")
async def live() -> None:
    """Authenticate (cookie + same Origin) before accepting, then stream until told to stop."""
    origin = websocket.headers.get("Origin")
    if origin is None or not same_origin(origin, websocket.host):
        abort(403)  # cross-site websocket hijacking: refused before the handshake completes
    session = current_user.session
    if session is None:
        abort(401)
    await serve(PageDialect(), session=session, token=current_user.auth_id)
