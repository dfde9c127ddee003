"""The page websocket: one per open page, streaming events the broker hands it.

Every event arrives rendered (once, by app/live/events.py): this layer sends its HTML and, when
the envelope says so, closes. What the page sends is small JSON (`{"type": "hello", ...}`),
bounded and rate limited."""
from __future__ import annotations

import asyncio
import json
import logging

from quart import Blueprint, Response, abort, current_app, render_template, websocket
from quart_auth import current_user

from app.chat import events as chat_events
from app.chat import service as chat
from app.chat.catchup import Cursor, TooFarBehind
from app.models import UserSession
from app.realtime import events
from app.realtime.broker import Event, Overflow, Subscription
from app.realtime.limits import REPLACED, SocketLimits
from app.runtime import runtime
from app.web.security import same_origin
from app.web.websockets import direct_sender

log = logging.getLogger("huddle.live")
bp = Blueprint("live", __name__)

# How often a socket re-checks that its session still exists (expiry, or a revocation whose
# event was lost); revocations normally arrive at once through the session and user topics.
RECHECK_SECONDS = 60
# A page sends little (a hello, typing hints): past this many frames in a burst, refilled at
# FRAMES_PER_SECOND, the socket is closed as abusive (1008) rather than served.
FRAME_BURST = 30
FRAMES_PER_SECOND = 5
# After closing a socket, how long to wait for the page's answer before letting go anyway.
CLOSE_ANSWER_SECONDS = 5
# A page announces typing in one conversation at most this often (seconds).
TYPING_EVERY = 1.0
# A page asks for the presence of at most this many people (those it shows).
PRESENCE_ASK_LIMIT = 500


def broker():
    return runtime().broker


def presence():
    return runtime().presence


def limits() -> SocketLimits:
    return runtime().socket_limits


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
    user_id = session.user_id
    token = current_user.auth_id
    # Subscribed before accepting: nothing published from here on can be missed. A page listens
    # to every conversation its user is in (the sidebar counts unread ones).
    topics = [f"session:{session.id}", f"user:{user_id}", "presence"]
    topics += [chat_events.topic(cid) for cid in await chat.conversation_ids(user_id)]
    async with broker().subscribe(topics) as subscription:
        await websocket.accept()
        counted = False
        receiver = None
        try:
            for old in limits().admit(session.id, user_id, subscription):
                old.deliver(events.closing(REPLACED))
            came_online = await presence().connect(user_id)
            counted = True
            if came_online:
                await events.presence_changed(user_id, True)
            receiver = asyncio.create_task(_receive(token, subscription, session.user))
            await _stream(subscription, Cursor(user_id))
            # We closed it. Keep reading until the page answers the close: Hypercorn stops
            # reading a connection whose app is gone while frames are queued, and would then
            # hold it (and its memory) until a timeout. The answer ends this handler at once.
            await asyncio.wait({receiver}, timeout=CLOSE_ANSWER_SECONDS)
        finally:
            limits().release(subscription)
            if receiver is not None:
                receiver.cancel()
            if counted:
                # The server cancels this handler when the client goes away, at any await;
                # shielded so that the count always goes down (MemoryPresence changes it before
                # its first await; a shared presence may need the network).
                await asyncio.shield(presence().disconnect(user_id))


async def _stream(subscription: Subscription, cursor: Cursor) -> None:
    """The only sender on this socket: events in the order the broker (or the page) gave them."""
    send = direct_sender(websocket)
    while True:
        try:
            event = await subscription.get()
            if event.kind.startswith("message."):
                await cursor.live(event, send)
                continue
            if event.kind == "hello":
                await _hello(event.data, subscription, cursor)
                continue
            if event.kind == "membership":
                await _membership_changed(event.data["conversation_id"], subscription, cursor.user_id)
        except Overflow:
            log.warning("dropping a live socket that fell behind")
            await websocket.close(1013)  # "try again later": htmx reconnects, the page catches up
            return
        except TooFarBehind:
            await websocket.send(await render_template("live/_control.html", action="reload", scope="chat"))
            await websocket.close(1000)
            return
        if event.html:
            await send(event.html)
        if event.close is not None:
            await websocket.close(event.close)
            return


async def _hello(message: dict, subscription: Subscription, cursor: Cursor) -> None:
    """The page says whose presence it shows and where it is in the conversation it shows; it
    gets their presence, every unread count, and what it missed, as they are now."""
    asked = message.get("presence")
    ids = set()
    if isinstance(asked, list):
        ids = {uid for uid in asked[:PRESENCE_ASK_LIMIT] if isinstance(uid, int) and not isinstance(uid, bool)}
    conversation, after = message.get("conversation"), message.get("after")
    if not (isinstance(conversation, int) and isinstance(after, int)) or isinstance(after, bool):
        conversation = after = None
    await cursor.hello(conversation, after, websocket.send)  # what the conversation missed, first
    # Then one frame: presence of the people shown, and every unread count, as they are now. It
    # ends the answer to the hello.
    online = await presence().online(ids)
    await websocket.send((await events.presence(online, ids - online, snapshot=True)).html + await render_template(
        "chat/_unread_snapshot.html", counts=await chat.unread_counts_by_id(cursor.user_id)))


async def _membership_changed(conversation_id: int, subscription: Subscription, user_id: int) -> None:
    """Joined or left (or was added or removed): listen to the conversation, or stop at once."""
    topic = chat_events.topic(conversation_id)
    if await chat.membership_by_id(user_id, conversation_id):
        await subscription.add(topic)
    else:
        await subscription.remove(topic)


async def _receive(token: str, subscription: Subscription, user) -> None:
    """Read what the page sends (bounded, rate limited); re-check the session every so often."""
    typing: dict[int, float] = {}  # conversation → when this page last announced typing there
    try:
        await _read_frames(token, subscription, user, typing)
    finally:
        # A page that goes away while typing stops typing, for everyone, at once.
        for conversation_id in typing:
            await chat_events.publish(await chat_events.typing(conversation_id, user.id, user.username, "stop"))


async def _read_frames(token: str, subscription: Subscription, user, typing: dict[int, float]) -> None:
    settings = current_app.config["HUDDLE"]
    loop = asyncio.get_running_loop()
    allowance, last = float(FRAME_BURST), loop.time()
    checked = loop.time()
    while True:
        try:
            frame = await asyncio.wait_for(websocket.receive(), timeout=RECHECK_SECONDS)
        except TimeoutError:
            frame = None
        now = loop.time()
        if frame is not None:
            allowance = min(FRAME_BURST, allowance + (now - last) * FRAMES_PER_SECOND) - 1
            last = now
            if allowance < 0:
                log.warning("closing a live socket that floods (user %s)", user.id)
                subscription.deliver(events.closing(1008))
                return await _drain()
            await _handle(frame, subscription, user, typing)
        if now - checked >= RECHECK_SECONDS:
            checked = now
            alive = await UserSession.from_token(
                token, idle=settings.session_idle_seconds, max_age=settings.session_max_age_seconds
            )
            if alive is None:
                subscription.deliver(await events.logout("", "expired"))
                return await _drain()
            await alive.touch()


async def _drain() -> None:
    """Until the stream closes the socket (and cancels this), read and drop what still comes:
    a socket nobody reads makes the server stop reading its connection, close frame included."""
    while True:
        await websocket.receive()


async def _handle(frame: str | bytes, subscription: Subscription, user, typing: dict[int, float]) -> None:
    """One frame from the page. Anything malformed is ignored: a page never needs an answer."""
    try:
        message = json.loads(frame)
    except (ValueError, TypeError, RecursionError):  # nesting too deep is malformed too
        return
    if not isinstance(message, dict):
        return
    if message.get("type") == "hello":
        # Answered by the stream (the only sender), in order with the live events.
        subscription.deliver(Event("hello", "", data=message))
    elif message.get("type") == "typing":
        conversation_id, state = message.get("conversation"), message.get("state", "start")
        if not isinstance(conversation_id, int) or state not in {"start", "stop"}:
            return
        if chat_events.topic(conversation_id) not in subscription.topics:
            return  # not a member: nobody hears about it
        now = asyncio.get_running_loop().time()
        if state == "start" and now - typing.get(conversation_id, -TYPING_EVERY) < TYPING_EVERY:
            return  # at most one "typing" a second per page and conversation; no database write
        if state == "start":
            typing[conversation_id] = now
        elif typing.pop(conversation_id, None) is None:
            return
        await chat_events.publish(await chat_events.typing(conversation_id, user.id, user.username, state))
