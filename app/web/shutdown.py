"""On shutdown, close every live socket at once with 1012 ("service restart"), so pages and
programs reconnect (to another worker, or to this server once it is back) and catch up, instead
of waiting out Hypercorn's graceful timeout and then being dropped.

Hypercorn gives the app no signal before that wait: its workers poll a multiprocessing event
set by the master on SIGTERM/SIGINT (`hypercorn.asyncio.run.check_multiprocess_shutdown_event`),
then stop accepting and wait up to `graceful_timeout` for open connections. A live socket never
finishes by itself, so every restart cost the full timeout and ended in an abrupt 1006. We wrap
that trigger (looked up by the worker after it loads the app, which is when this runs): once it
fires, each app's broker closes its local sockets with 1012, and in-flight requests still finish
within the graceful timeout (each write done or not started). Checked by
tests/test_scale.py on the real server."""
from __future__ import annotations

import logging
import weakref

from quart import Quart

from app.runtime import Runtime

log = logging.getLogger("huddle")
RESTART = 1012

_apps: weakref.WeakSet[Quart] = weakref.WeakSet()


def close_sockets_on_shutdown(app: Quart) -> None:
    _apps.add(app)
    try:
        import hypercorn.asyncio.run as run
    except ImportError:  # served by another ASGI server: it closes sockets its own way
        return
    original = run.check_multiprocess_shutdown_event
    if getattr(original, "closes_huddle_sockets", False):
        return

    async def trigger(shutdown_event, sleep) -> None:
        await original(shutdown_event, sleep)
        for each in list(_apps):
            closed = Runtime.of(each).broker.close_local_sockets(RESTART)
            sockets = "socket" if closed == 1 else "sockets"
            log.info("shutting down: closed %d live %s with %d", closed, sockets, RESTART)

    trigger.closes_huddle_sockets = True
    run.check_multiprocess_shutdown_event = trigger
