"""Serving one live socket (app/realtime/connection.py's Connection) until it ends: admitting it
(at most PENDING_PER_ADDRESS unauthenticated sockets per address), one reader task (bounded
frames, a flood bucket, a deadline to authenticate, the session's expiry checked on every action
and re-read from the database every RECHECK_SECONDS) and one sender loop (what the broker
delivers, in order), and the goodbye however it ends."""
from __future__ import annotations

import asyncio
import logging

from quart import abort, websocket

from app.realtime import events
from app.realtime.broker import Overflow
from app.realtime.connection import Connection, Dialect, _pending, release_pending
from app.realtime.cursor import TooFarBehind
from app.runtime import runtime
from app.web.throttle import address_block

log = logging.getLogger("huddle.live")

RECHECK_SECONDS = 60       # a session is re-read from the database this often (revocations whose event was lost)
CLOSE_ANSWER_SECONDS = 5   # after closing, how long to wait for the client's answer before letting go
PENDING_PER_ADDRESS = 20   # unauthenticated sockets one address (an IPv6 /64) may hold open, per worker
POLICY, TOO_BIG, TRY_LATER = 1008, 1009, 1013


async def serve(dialect: Dialect, *, session=None, token: str | None = None) -> None:
    """Run one socket until it ends. With a session (a page's cookie), its topics are subscribed
    before accepting, so nothing published from then on is missed; a program authenticates after
    opening, within dialect.auth_seconds."""
    block = None
    if session is None:
        block = address_block(websocket.remote_addr or "")
        if _pending.get(block, 0) >= PENDING_PER_ADDRESS:
            abort(429)  # refused before the handshake: too many unauthenticated sockets from here
        _pending[block] = _pending.get(block, 0) + 1
    topics = []
    if session is not None:
        topics = [f"session:{session.id}", f"user:{session.user_id}", "presence",
                  *await dialect.rooms.topics(session.user_id)]
    conn = None
    try:
        async with runtime().broker.subscribe(topics) as subscription:
            await websocket.accept()
            conn = Connection(dialect, subscription)
            conn.pending_block = block
            receiver = None
            try:
                if session is not None:
                    await conn.authenticate(session, token, ready=False)
                await dialect.opened(conn)
                receiver = asyncio.create_task(_receive(conn))
                await _stream(conn)
                # We closed it. Keep reading until the client answers the close: Hypercorn stops
                # reading a connection whose app is gone while frames are queued, and would then
                # hold it (and its memory) until a timeout. The answer ends this handler at once.
                await asyncio.wait({receiver}, timeout=CLOSE_ANSWER_SECONDS)
            finally:
                runtime().socket_limits.release(subscription)
                if receiver is not None:
                    receiver.cancel()
                # The server cancels this handler when the client goes away, at any await:
                # shielded so that presence always goes down.
                await asyncio.shield(conn.goodbye())
    finally:
        if conn is not None:
            conn._no_longer_pending()
        elif block is not None:
            release_pending(block)


async def _stream(conn: Connection) -> None:
    """The only sender of pushed events: in the order the broker gave them."""
    while True:
        try:
            event = await conn.subscription.get()
        except Overflow:
            log.warning("dropping a live socket that fell behind")
            await websocket.close(TRY_LATER)  # the client reconnects and catches up
            return
        async with conn.lock:
            try:
                if await conn.deliver(event):
                    return
            except TooFarBehind as behind:
                if await conn.dialect.too_far_behind(conn, behind):
                    return


async def _receive(conn: Connection) -> None:
    """Read frames: bounded, rate limited; an unauthenticated socket has auth_seconds to say who
    it is; an authenticated one acts only while its session lives."""
    dialect = conn.dialect
    loop = asyncio.get_running_loop()
    allowance, last = float(dialect.frame_burst), loop.time()
    opened = checked = loop.time()
    while True:
        if conn.session is None:
            timeout = max(0.0, opened + (dialect.auth_seconds or 0) - loop.time())
        else:
            timeout = max(0.0, checked + RECHECK_SECONDS - loop.time())
        try:
            raw = await asyncio.wait_for(websocket.receive(), timeout=timeout)
        except TimeoutError:
            raw = None
        now = loop.time()
        if conn.session is None and now - opened >= (dialect.auth_seconds or 0):
            log.info("closing a socket that did not authenticate in %s s", dialect.auth_seconds)
            conn.close(POLICY)
            return await _drain()
        if raw is not None:
            allowance = min(dialect.frame_burst, allowance + (now - last) * dialect.frames_per_second) - 1
            last = now
            if allowance < 0:
                log.warning("closing a socket that floods (user %s)", conn.session and conn.session.user_id)
                conn.close(POLICY)
                return await _drain()
            if dialect.max_frame is not None and len(raw) > dialect.max_frame:
                conn.close(TOO_BIG)
                return await _drain()
            if conn.session is not None and conn.expired():
                checked = -RECHECK_SECONDS  # about to act past its session's end: ask the database first
            else:
                await _act(conn, raw)
                raw = None
        if conn.session is not None and now - checked >= RECHECK_SECONDS:
            checked = now
            if not await conn.recheck():
                conn.subscription.deliver(await events.logout(f"session:{conn.session.id}", "expired"))
                return await _drain()
            if raw is not None:  # the action that waited for the check: its session lives on
                await _act(conn, raw)


async def _act(conn: Connection, raw: str | bytes) -> None:
    """One frame from the client, under the connection's lock. A frame that fails is logged and
    the socket reads on: it would otherwise stay open and deaf (this task gone, unseen)."""
    async with conn.lock:
        try:
            await conn.dialect.frame(conn, raw)
        except Exception:  # noqa: BLE001 - one bad frame must not end the reading
            log.exception("a live socket's frame failed")


async def _drain() -> None:
    """Until the sender closes the socket (and this is cancelled), read and drop what still
    comes: a socket nobody reads makes the server stop reading its connection, close included."""
    while True:
        await websocket.receive()
