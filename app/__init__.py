"""Huddle: a self-hosted hypermedia team chat."""
from __future__ import annotations

import asyncio
import gc
import logging
import os

from quart import Quart
from tortoise import Tortoise

from app import compat
from app.config import ROOT, Settings, tortoise_config
from app.logs import scrub_access_log
from app.models import hashing

log = logging.getLogger("huddle")


def _configure_logging() -> None:
    """Huddle's own lines (mail written to the outbox, dropped sockets, …) at INFO by default
    (HUDDLE_LOG_LEVEL), one format, to standard error beside Hypercorn's."""
    if log.handlers:
        return
    handler = logging.StreamHandler()
    if os.environ.get("HUDDLE_LOG_FORMAT", "").lower() == "json":
        from app.logs import JsonFormatter

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"))
    log.addHandler(handler)
    level = os.environ.get("HUDDLE_LOG_LEVEL", "INFO").upper()
    log.setLevel(level if isinstance(logging.getLevelName(level), int) else logging.INFO)
    log.propagate = False


def create_app(settings: Settings | None = None) -> Quart:
    """Build the app; nothing touches the disk or the database until it starts serving."""
    settings = settings or Settings.from_env()
    _configure_logging()
    scrub_access_log()  # app/logs.py: no secrets and no forged lines in the access log
    hashing.configure(settings.argon2_memory_kib)
    from app.web.urls import HuddleApp

    app = HuddleApp(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        static_url_path="/static",
    )
    app.config.update(
        HUDDLE=settings,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        TEMPLATES_AUTO_RELOAD=settings.templates_auto_reload,
        SESSION_COOKIE_NAME="huddle_csrf",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.resolved_cookie_secure(),
    )
    # The key is read (or made) before serving: importing and building stay free of I/O.
    app.secret_key = None

    from app import startup
    from app.accounts import auth
    from app.runtime import KEY
    from app.web import assets, compression, errors, security
    from app.web.htmx import dom_id
    from app.web.shutdown import close_sockets_on_shutdown
    from app.web.urls import IdConverter, elsewhere, path_for

    compat.decline_websocket_compression()  # see app/compat.py: less memory per socket
    close_sockets_on_shutdown(app)
    app.url_map.converters["int"] = IdConverter  # before any route is added
    # Every part this app holds, typed (app/runtime.py): one worker in-process, several through Redis.
    parts = app.extensions[KEY] = startup.build(settings)
    security.init_app(app)
    assets.init_app(app)  # static files under versioned URLs, cached a year (app/web/assets.py)
    compression.init_app(app)  # brotli or gzip for text past 1 KB (app/web/compression.py)
    auth.init_app(app)
    error_pages = errors.init_app(app)
    app.jinja_env.globals.update(dom_id=dom_id, url_for=path_for)  # paths by endpoint name, even with no request
    from app.chat.events import message_body, message_html
    from app.chat.text import linkify

    app.jinja_env.filters["linkify"] = linkify
    app.jinja_env.filters["elsewhere"] = elsewhere  # another site's URL, never an app path (test_urls)
    from app.chat.replies import excerpt

    app.jinja_env.filters["excerpt"] = excerpt  # a message's first words, on one line (a reply's quote)
    app.jinja_env.globals["message_html"] = message_html  # async: Jinja awaits it (async templates)
    app.jinja_env.globals["message_body"] = message_body  # async too: the text, its mentions highlighted
    from app.chat.mentions import unread_total

    app.jinja_env.globals["unread_mentions"] = unread_total  # the header's badge (async)
    from app.models.names import labels_of

    app.jinja_env.globals["labels_of"] = labels_of  # a page's list of people as they are called now
    from app.chat import conversations

    conversations.subscribe()  # chat acts on what accounts announce (a new account joins #general)
    from app.chat import previews

    previews.subscribe()  # a file's preview is ready: its messages take their next number
    from app.feedback import service as feedback

    feedback.subscribe()  # a profile shows the person's feedback to them and the administrators
    from app.files import avatars

    avatars.subscribe()  # a deleted account's picture goes with it
    from app.notify import service as notify

    notify.subscribe()  # who is told of a message, and closing what was shown once it is read
    from app.accounts.rules import passwords_cleared

    app.jinja_env.globals["passwords_cleared"] = passwords_cleared  # account forms shown again

    async def went_offline(user_id: int) -> None:
        # Runs from presence's timer, outside any request: give it the app's context.
        from app.realtime import events

        async with app.app_context():
            await events.went_offline(user_id)

    parts.presence.on_offline = went_offline
    from app.notify.push_worker import PushWorker

    parts.push = PushWorker(settings)  # Web Push: one delivery task per process, started with serving
    from app.files.worker import FileWorker

    parts.files = FileWorker(settings, parts.storage)  # previews: one task per process, started with serving
    from app.links.worker import LinkWorker

    parts.links = LinkWorker(settings)  # link previews: one task per process, started with serving

    from app.accounts.password_routes import bp as password_bp
    from app.accounts.routes import bp as accounts_bp
    from app.admin.routes import bp as admin_bp
    from app.chat.level_routes import bp as levels_bp
    from app.chat.mention_routes import bp as mentions_bp
    from app.chat.people_routes import bp as people_bp
    from app.chat.reaction_routes import bp as reactions_bp
    from app.chat.rooms import bp as rooms_bp
    from app.chat.routes import bp as chat_bp
    from app.chat.thread_routes import bp as threads_bp
    from app.feedback.routes import bp as feedback_bp
    from app.files.avatar_routes import bp as avatars_bp
    from app.files.routes import bp as files_bp
    from app.health import bp as health_bp
    from app.home import bp as home_bp
    from app.links.routes import bp as links_bp
    from app.live.socket import bp as live_bp
    from app.notify.push_routes import bp as push_bp
    from app.search.routes import bp as search_bp

    app.register_blueprint(home_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(chat_bp)
    app.register_blueprint(rooms_bp)
    app.register_blueprint(people_bp)
    app.register_blueprint(levels_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(live_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(password_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(mentions_bp)
    app.register_blueprint(reactions_bp)
    app.register_blueprint(threads_bp)  # a message's thread: its panel and page, following, the Threads view
    app.register_blueprint(push_bp)
    app.register_blueprint(links_bp)  # link previews: removed by their sender, their images served by Huddle
    app.register_blueprint(files_bp)  # uploads, and files served to whoever may read them
    app.register_blueprint(avatars_bp)  # people's pictures (and the initials filters the face macro uses)
    from app import api

    api.init_app(app, error_pages)

    @app.before_serving
    async def start() -> None:
        app.secret_key = settings.load_secret_key()
        # Connections every task reaches: requests and websockets run in other tasks than this.
        await compat.init_tortoise(tortoise_config(settings.resolved_database_url()))
        await parts.broker.start()
        await parts.push.start()
        await parts.files.start()
        await parts.links.start()
        # Everything made so far (modules, templates, the ORM's metadata) lives as long as the
        # process: move it out of the cyclic collector's sight, so collections triggered by the
        # fan-out's short-lived objects do not walk it again and again.
        gc.collect()
        gc.freeze()

    @app.after_serving
    async def stop() -> None:
        try:
            await asyncio.wait_for(parts.mailer.drain(), timeout=5)
        except TimeoutError:
            log.warning("shutting down with mail still queued")
        await parts.push.stop()
        await parts.files.stop()
        await parts.links.stop()
        await parts.presence.close()
        await parts.viewing.close()
        await parts.broker.stop()
        await parts.storage.close()
        if parts.redis is not None:
            await parts.redis.aclose()
        await Tortoise.close_connections()

    return app
