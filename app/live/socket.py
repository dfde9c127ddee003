"""The page websocket: one per open page, streaming rendered fragments from the broker.

A page subscribes to its session, its user and presence. Control messages (`logout:<reason>`,
`reload:<scope>`) are the only payloads this layer reads; everything else is sent as it came."""
from __future__ import annotations

import asyncio
import logging

from quart import Blueprint, Response, abort, current_app, render_template, websocket
from quart_auth import current_user

from app import clock
from app.live.broker import Overflow, Subscription
from app.models import User, UserSession
from app.web.security import same_origin

log = logging.getLogger("huddle.live")
bp = Blueprint("live", __name__)

# How often an idle socket re-checks that its session still exists (expiry, missed events).
RECHECK_SECONDS = 60
# A page sends little (typing hints at most): past this many frames in a burst, refilled at
# FRAMES_PER_SECOND, the socket is closed as abusive (1008) rather than served.
FRAME_BURST = 30
FRAMES_PER_SECOND = 5
def broker():
    return current_app.extensions["broker"]


def presence():
    return current_app.extensions["presence"]


async def publish_presence(user: User, online: bool) -> None:
    fragment = await render_template("accounts/_presence.html", person=user, online=online)
    await broker().publish("presence", fragment)


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
    user = session.user
    token = current_user.auth_id
    topics = [f"session:{session.id}", f"user:{user.id}", "presence"]
    with broker().subscribe(topics) as subscription:
        await websocket.accept()
        came_online = presence().join(user.id)
        watcher = None
        try:
            if came_online:
                await publish_presence(user, True)
            await websocket.send(await _presence_snapshot())
            watcher = asyncio.create_task(_watch(token, subscription))
            await _stream(subscription)
        finally:
            if watcher is not None:
                watcher.cancel()
            # Shielded: the server cancels this handler when the client goes away (at any
            # await above, even before the first send), which must not leave the user
            # online for everyone else.
            await asyncio.shield(_left(user))


async def _left(user: User) -> None:
    if presence().leave(user.id):
        user.last_seen_at = clock.now()
        await User.filter(id=user.id).update(last_seen_at=user.last_seen_at)
        await publish_presence(user, False)


async def _presence_snapshot() -> str:
    """Catch-up on (re)connect: everyone's badge as it is now, in one message."""
    people = await User.all()
    online = presence().online_ids()
    return await render_template("live/_presence_snapshot.html", people=people, online_ids=online)


async def _stream(subscription: Subscription) -> None:
    while True:
        try:
            _topic, payload = await subscription.get()
        except Overflow:
            log.warning("dropping a live socket that fell behind")
            await websocket.close(1013)  # "try again later": htmx reconnects
            return
        if payload.startswith("logout:"):
            reason = payload.split(":", 1)[1]
            await websocket.send(await render_template("live/_control.html", action="logout", reason=reason))
            await websocket.close(1000)
            return
        if payload.startswith("close:"):
            await websocket.close(int(payload.split(":", 1)[1]))
            return
        if payload.startswith("reload:"):
            payload = await render_template("live/_control.html", action="reload", scope=payload.split(":", 1)[1])
        await websocket.send(payload)


async def _watch(token: str, subscription: Subscription) -> None:
    """Read what the page sends; after each frame, and at least every minute, re-check the session."""
    settings = current_app.config["HUDDLE"]
    loop = asyncio.get_running_loop()
    allowance, last = float(FRAME_BURST), loop.time()
    while True:
        try:
            await asyncio.wait_for(websocket.receive(), timeout=RECHECK_SECONDS)
        except asyncio.TimeoutError:
            pass
        else:
            now = loop.time()
            allowance = min(FRAME_BURST, allowance + (now - last) * FRAMES_PER_SECOND) - 1
            last = now
            if allowance < 0:
                log.warning("closing a live socket that floods (user %s)", current_user.session.user_id)
                subscription.deliver("control", "close:1008")
                return
        alive = await UserSession.from_token(
            token, idle=settings.session_idle_seconds, max_age=settings.session_max_age_seconds
        )
        if alive is None:
            subscription.deliver("control", "logout:expired")
            return
        await alive.touch()
