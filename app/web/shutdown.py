"""On shutdown, close every live socket at once with 1012 ("service restart"), so pages and
programs reconnect (to another worker, or to this server once it is back) and catch up, instead
of waiting out Hypercorn's graceful timeout and then being dropped.

Hypercorn gives the app no signal before that wait, and a live socket never finishes by itself,
so every restart cost the full timeout and ended in an abrupt 1006. app/compat.py's
on_hypercorn_shutdown hooks the moment a worker is told to stop: then each app's broker closes
its local sockets with 1012, and in-flight requests still finish within the graceful timeout
(each write done or not started). Checked by tests/test_scale.py on the real server."""
from __future__ import annotations

import logging
import weakref

from quart import Quart

from app.compat import on_hypercorn_shutdown
from app.runtime import Runtime

log = logging.getLogger("huddle")
RESTART = 1012

_apps: weakref.WeakSet[Quart] = weakref.WeakSet()


def _close_sockets() -> None:
    for each in list(_apps):
        closed = Runtime.of(each).broker.close_local_sockets(RESTART)
        sockets = "socket" if closed == 1 else "sockets"
        log.info("shutting down: closed %d live %s with %d", closed, sockets, RESTART)


def close_sockets_on_shutdown(app: Quart) -> None:
    _apps.add(app)
    on_hypercorn_shutdown(_close_sockets)
