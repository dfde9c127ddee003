"""The parts one running app holds (broker, presence, socket limits, mailer, rate limiters, the
rendered-fragment caches), reached by type: `runtime().broker`, never by a string key.

They are made once at start-up by app/startup.py; this module only names them, so every layer
may reach them without importing what builds them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quart import Quart, current_app

if TYPE_CHECKING:
    from app.config import Settings
    from app.mail import Mailer
    from app.realtime.broker import Broker
    from app.realtime.limits import SocketLimits

KEY = "huddle"


@dataclass(slots=True)
class Limiters:
    """Every counted limit: acts per key in a window (failed logins, reset requests, accounts, posts)."""

    login_user: Any
    login_ip: Any
    password_user: Any
    reset_email: Any
    reset_ip: Any
    register_ip: Any
    post_user: Any


@dataclass(slots=True)
class Runtime:
    settings: Settings
    broker: Broker
    presence: Any  # MemoryPresence or RedisPresence: connect/disconnect/online/close
    socket_limits: SocketLimits
    mailer: Mailer
    limiters: Limiters
    redis: Any = None  # one shared client when several workers run (HUDDLE_BROKER_URL=redis://)
    # Which conversation each page with a visible tab shows (app/realtime/viewing.py): nobody is
    # notified of what they are looking at. MemoryViewing, or RedisViewing with several workers.
    viewing: Any = None
    # This process's Web Push delivery worker (app/notify/push_worker.py): enqueuing wakes it.
    push: Any = None
    # Where files are kept (app/storage/: the data folder, or an S3-compatible bucket), and this
    # process's preview worker (app/files/worker.py: thumbnails off the request path).
    storage: Any = None
    files: Any = None
    # This process's link preview worker (app/links/worker.py): a post with a link wakes it.
    links: Any = None
    # Rendered once, reused by every page and socket: message fragments and whole events.
    message_html: dict = field(default_factory=dict)
    rendered_events: dict = field(default_factory=dict)
    # (user, topic) → when "typing" was last announced there, by any socket of this worker.
    typing_started: dict = field(default_factory=dict)
    # (user, conversation) → (highest message number notified, when), until read (app/notify/shown.py;
    # in Redis instead when several workers run).
    notified: dict = field(default_factory=dict)

    @staticmethod
    def of(app: Quart) -> Runtime:
        return app.extensions[KEY]


def runtime() -> Runtime:
    """The running app's parts (inside an app, request or websocket context)."""
    return current_app.extensions[KEY]
