"""What start-up makes: every part of a running app (app/runtime.py names them), in-process for
one worker or shared through Redis for several, chosen by HUDDLE_BROKER_URL. This is start-up's
job, not the broker's. Nothing here connects yet: the Redis client connects on first use, the
broker when the app starts serving."""
from __future__ import annotations

from app.config import Settings
from app.mail import Mailer
from app.realtime.broker import Broker, MemoryBroker
from app.realtime.limits import SocketLimits
from app.realtime.presence import MemoryPresence
from app.realtime.viewing import MemoryViewing
from app.runtime import Limiters, Runtime
from app.storage import open_storage
from app.web.throttle import MemoryLimiter, RedisLimiter

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def build(settings: Settings) -> Runtime:
    """Every part, in-process for one worker or shared through Redis for several."""
    redis = None
    if settings.broker_url.startswith(REDIS_SCHEMES):
        import redis.asyncio as redis_asyncio

        from app.realtime.redis_broker import RedisBroker
        from app.realtime.redis_presence import RedisPresence
        from app.realtime.redis_viewing import RedisViewing

        redis = redis_asyncio.Redis.from_url(settings.broker_url)
        broker: Broker = RedisBroker(settings.broker_url, prefix=settings.redis_prefix)
        presence = RedisPresence(redis, settings.presence_grace_seconds,
                                 prefix=settings.redis_prefix + "presence:", ttl=settings.presence_ttl_seconds)
        viewing = RedisViewing(redis, prefix=settings.redis_prefix + "viewing:", ttl=settings.presence_ttl_seconds)
    elif settings.broker_url.startswith("memory:"):
        broker = MemoryBroker()
        presence = MemoryPresence(settings.presence_grace_seconds)
        viewing = MemoryViewing()
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
        limiters=limiters, redis=redis, viewing=viewing,
        storage=open_storage(settings),  # the data folder, or an S3 bucket (HUDDLE_STORAGE_URL)
    )
