"""The parts one running app holds (broker, presence, socket limits, mailer, rate limiters, the
rendered-fragment caches), made once at start-up from the settings and reached by type:
`runtime().broker`, never by a string key.

This is app start-up's job, not the broker's: the factory below picks the in-process or the
Redis implementation of each part from HUDDLE_BROKER_URL."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from quart import Quart, current_app

from app.config import Settings
from app.mail import Mailer
from app.realtime.broker import Broker, MemoryBroker
from app.realtime.limits import SocketLimits
from app.realtime.presence import MemoryPresence
from app.web.throttle import MemoryLimiter, RedisLimiter

KEY = "huddle"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


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
    # Rendered once, reused by every page and socket: message fragments and whole events.
    message_html: dict = field(default_factory=dict)
    rendered_events: dict = field(default_factory=dict)

    @staticmethod
    def of(app: Quart) -> Runtime:
        return app.extensions[KEY]


def runtime() -> Runtime:
    """The running app's parts (inside an app, request or websocket context)."""
    return current_app.extensions[KEY]


def build(settings: Settings) -> Runtime:
    """Every part, in-process for one worker or shared through Redis for several. Nothing here
    connects yet: the Redis client connects on first use, the broker when the app starts."""
    redis = None
    if settings.broker_url.startswith(REDIS_SCHEMES):
        import redis.asyncio as redis_asyncio

        from app.realtime.redis_broker import RedisBroker
        from app.realtime.redis_presence import RedisPresence

        redis = redis_asyncio.Redis.from_url(settings.broker_url)
        broker: Broker = RedisBroker(settings.broker_url, prefix=settings.redis_prefix)
        presence = RedisPresence(redis, settings.presence_grace_seconds,
                                 prefix=settings.redis_prefix + "presence:", ttl=settings.presence_ttl_seconds)
    elif settings.broker_url.startswith("memory:"):
        broker = MemoryBroker()
        presence = MemoryPresence(settings.presence_grace_seconds)
    else:
        raise ValueError(f"Unsupported HUDDLE_BROKER_URL {settings.broker_url!r}: "
                         "use memory:// or redis://host:6379/0")

    def limiter(name: str, limit: int, window: float):
        if redis is None:
            return MemoryLimiter(limit, window)
        return RedisLimiter(redis, f"{settings.redis_prefix}limit:{name}:", limit, window)

    limiters = Limiters(
        login_user=limiter("login_limiter_user", settings.login_failures_per_user, settings.login_window_seconds),
        login_ip=limiter("login_limiter_ip", settings.login_failures_per_ip, settings.login_window_seconds),
        password_user=limiter("password_limiter_user", settings.login_failures_per_user,
                              settings.login_window_seconds),
        reset_email=limiter("reset_limiter_email", settings.reset_requests_per_email, 3600),
        reset_ip=limiter("reset_limiter_ip", settings.reset_requests_per_ip, 3600),
        register_ip=limiter("register_limiter_ip", settings.registrations_per_address_per_hour, 3600),
        # Posts per user: a burst of 20 in 10 s is more than anyone types; a script gets 429.
        post_user=limiter("post_limiter_user", settings.posts_per_10_seconds, 10),
    )
    return Runtime(
        settings=settings, broker=broker, presence=presence,
        socket_limits=SocketLimits(settings.live_sockets_per_session, settings.live_sockets_per_user),
        mailer=Mailer(settings.smtp_url, settings.data_dir / "outbox", settings.mail_from),
        limiters=limiters, redis=redis,
    )
