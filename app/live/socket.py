"""The page websocket: one per open page, streaming events the broker hands it.

Every event arrives rendered (once, by app/live/events.py): this layer sends its HTML and, when
the envelope says so, closes. What the page sends is small JSON (`{"type": "hello", ...}`),
bounded and rate limited."""
from __future__ import annotations

import asyncio
import json
import logging

from quart import Blueprint, Response, abort, current_app, websocket
from quart_auth import current_user

from app.live import events
from app.live.broker import Overflow, Subscription
from app.live.limits import REPLACED, SocketLimits
from app.models import UserSession
from app.web.security import same_origin

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
# A page asks for the presence of at most this many people (those it shows).
PRESENCE_ASK_LIMIT = 500


def broker():
    return current_app.extensions["broker"]


def presence():
    return current_app.extensions["presence"]


def limits() -> SocketLimits:
    return current_app.extensions["live_limits"]


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
    # Subscribed before accepting: nothing published from here on can be missed.
    async with broker().subscribe([f"session:{session.id}", f"user:{user_id}", "presence"]) as subscription:
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
            receiver = asyncio.create_task(_receive(token, subscription))
            await _stream(subscription)
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


async def _stream(subscription: Subscription) -> None:
    while True:
        try:
            event = await subscription.get()
        except Overflow:
            log.warning("dropping a live socket that fell behind")
            await websocket.close(1013)  # "try again later": htmx reconnects, the page catches up
            return
        if event.html:
            await websocket.send(event.html)
        if event.close is not None:
            await websocket.close(event.close)
            return


async def _receive(token: str, subscription: Subscription) -> None:
    """Read what the page sends (bounded, rate limited); re-check the session every so often."""
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
                log.warning("closing a live socket that floods (user %s)", current_user.session.user_id)
                subscription.deliver(events.closing(1008))
                return await _drain()
            await _handle(frame, subscription)
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


async def _handle(frame: str | bytes, subscription: Subscription) -> None:
    """One frame from the page. Anything malformed is ignored: a page never needs an answer."""
    try:
        message = json.loads(frame)
    except (ValueError, TypeError):
        return
    if not isinstance(message, dict):
        return
    if message.get("type") == "hello":
        # The page says whose badges it shows; it gets their presence as it is now (catch-up
        # after a reconnect), never the whole membership.
        asked = message.get("presence")
        if not isinstance(asked, list):
            return
        ids = {uid for uid in asked[:PRESENCE_ASK_LIMIT] if isinstance(uid, int) and not isinstance(uid, bool)}
        online = await presence().online(ids)
        subscription.deliver(await events.presence(online, ids - online, snapshot=True))
