"""Revocable sessions on top of quart-auth: the cookie's auth_id is an opaque token naming a
UserSession row, re-checked on every request and websocket; deleting the row ends access."""
from __future__ import annotations

from functools import wraps
from typing import Any
from collections.abc import Awaitable, Callable

from quart import current_app, has_request_context, request
from quart_auth import Action, AuthUser, QuartAuth, Unauthorized, current_user, login_user, logout_user
from werkzeug.exceptions import Forbidden

from app.accounts import service as users
from app.web.throttle import address_block
from app.models import User, UserSession
from app.web.security import rotate_csrf_token


class HuddleUser(AuthUser):
    """quart-auth's user, plus the session row and User it names once loaded."""

    def __init__(self, auth_id: str | None, action: Action = Action.PASS) -> None:
        super().__init__(auth_id, action)
        self.session: UserSession | None = None

    @property
    async def is_authenticated(self) -> bool:
        return self.session is not None

    @property
    def user(self) -> User | None:
        return self.session.user if self.session else None


def client_ip() -> str:
    return request.remote_addr or ""


def client_block() -> str:
    """The client's address as limits count it (an IPv6 /64 is one client)."""
    return address_block(client_ip())


async def load_session() -> None:
    """before_request / before_websocket: resolve the cookie to a live session, or to nobody."""
    if has_request_context() and request.endpoint == "static":
        return  # static files need no session: no query per stylesheet and script
    token = current_user.auth_id
    if token is None:
        return
    settings = current_app.config["HUDDLE"]
    session = await UserSession.from_token(
        token, idle=settings.session_idle_seconds, max_age=settings.session_max_age_seconds
    )
    if session is None:
        if has_request_context():
            logout_user()  # the cookie names no live session: drop it
        return
    await session.touch()
    current_user.session = session


def current() -> User | None:
    """The signed-in User, or None."""
    return current_user.user


def current_session() -> UserSession | None:
    return current_user.session


async def start_session(user: User) -> UserSession:
    """Log in: a brand-new session row and token (never one the browser brought along). Only
    the newest sessions are kept (HUDDLE_SESSIONS_PER_USER): the oldest device is logged out."""
    session, token = await UserSession.start(
        user, kind="web", user_agent=request.headers.get("User-Agent", ""), ip=client_ip()
    )
    await users.trim_sessions(user, current_app.config["HUDDLE"].sessions_per_user)
    person = HuddleUser(token)
    person.session = session
    session.user = user
    login_user(person, remember=True)
    rotate_csrf_token()
    return session


async def end_session() -> None:
    """Log out this browser: delete its row and cookie, and send its other tabs to the login page."""
    if current_user.session is not None:
        await users.end_session(current_user.session, "logged-out")
    logout_user()
    rotate_csrf_token()


def login_required(view: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @wraps(view)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user.session is None:
            raise Unauthorized()
        return await view(*args, **kwargs)

    return wrapper


def admin_required(view: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @wraps(view)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user.session is None:
            raise Unauthorized()
        if not current_user.user.is_admin:
            raise Forbidden("Only administrators can open this page.")
        return await view(*args, **kwargs)

    return wrapper


def init_app(app) -> None:
    settings = app.config["HUDDLE"]
    app.config.update(
        QUART_AUTH_COOKIE_NAME="huddle_auth",
        QUART_AUTH_COOKIE_SECURE=settings.resolved_cookie_secure(),
        QUART_AUTH_COOKIE_SAMESITE="Lax",
        QUART_AUTH_DURATION=settings.session_max_age_seconds,
        QUART_AUTH_SALT="huddle auth session",
    )
    # One QuartAuth per app: it copies cookie settings onto itself at init_app.
    QuartAuth(app, user_class=HuddleUser)
    app.before_request(load_session)
    app.before_websocket(load_session)
    app.jinja_env.globals["current_account"] = current
