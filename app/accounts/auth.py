"""Revocable sessions on top of quart-auth: the cookie's auth_id is an opaque token naming a
UserSession row, re-checked on every request and websocket; deleting the row ends access."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from quart import current_app, has_request_context, has_websocket_context, request, websocket
from quart_auth import Action, AuthUser, QuartAuth, Unauthorized, current_user, login_user, logout_user
from werkzeug.exceptions import Forbidden

from app.accounts import service as users
from app.domain import Invalid, NotAllowed, text_problem
from app.models import User, UserSession, hashing, usernames
from app.runtime import runtime
from app.web.security import rotate_csrf_token
from app.web.throttle import address_block, take_all
from app.web.urls import is_api_path


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
    if has_websocket_context():
        return websocket.remote_addr or ""
    return request.remote_addr or ""


def client_block() -> str:
    """The client's address as limits count it (an IPv6 /64 is one client)."""
    return address_block(client_ip())


TOO_MANY_FAILED = "Too many failed attempts. Try again in {wait} seconds."


async def check_login(username: str, password: str) -> User:
    """The login rule for every door (the form, the JSON API, the JSON websocket, the messenger
    API): the user these credentials name, or Invalid (per field) / RateLimited.

    Guesses at one account are counted per client address, so a stranger's failures never lock
    the owner out from their own address; each address is also limited overall."""
    name = usernames.normalize(username or "")
    password = password or ""
    errors = {}
    if not name:
        errors["username"] = "Enter your username or email address."
    elif problem := text_problem(name):  # names no account (and is never counted against one)
        errors["username"] = problem
    if not password:
        errors["password"] = "Enter your password."
    elif len(password) > hashing.MAX_LENGTH:
        errors["password"] = f"Passwords are at most {hashing.MAX_LENGTH:,} characters."
    if errors:
        raise Invalid(errors)
    by_user = runtime().limiters.login_user
    by_ip = runtime().limiters.login_ip
    ip_key = client_block()
    user_key = f"{usernames.key(name)}|{ip_key}"
    # The attempt is counted before the password is verified, in one step with the check: any
    # number of attempts at once get at most the limit's worth of verifies. A success gives its
    # place back (and forgets this user's failures from here); a failure keeps it.
    attempt = await take_all(TOO_MANY_FAILED, (by_user, user_key), (by_ip, ip_key))
    try:
        user = await users.authenticate(name, password)
    except Exception:  # nothing was tried (the database failed): not a guess
        for hit in attempt:
            await hit.give_back()
        raise
    if user is None:
        raise Invalid({"form": "That username and password do not match an account."})
    await by_user.reset(user_key)
    await attempt[1].give_back()
    return user


REGISTER_LIMITED = "Too many sign-up attempts from your network. Try again in {minutes} minutes."


REGISTRATION_CLOSED = "Registration is closed on this Huddle: an administrator adds people."
INVITATION_NEEDED = "Joining this Huddle is by invitation: ask an administrator for an invitation link."


async def invitation_for(token: str | None):
    """The invitation a registration needs now: None when none is needed (the first account, or
    open registration); NotAllowed when registration is closed or the invitation is missing or
    spent."""
    from app.models import Invitation

    mode = await users.registration_mode(current_app.config["HUDDLE"].registration)
    if mode in ("first", "open"):
        return None
    if mode == "closed":
        raise NotAllowed(REGISTRATION_CLOSED)
    invitation = await Invitation.valid(token)
    if invitation is None:
        raise NotAllowed(users.INVITATION_SPENT if token else INVITATION_NEEDED)
    return invitation


async def register_account(username: str, email: str, password: str, confirm: str,
                           invitation_token: str | None = None, display_name: str = "") -> User:
    """Registration as every door offers it (the form and the JSON APIs): who may join (the
    site's registration mode, an invitation), then one attempt counted per network, *before*
    anything is checked or made and whatever comes of it (an account, or a refusal: so neither
    a burst of parallel sign-ups nor probing which addresses are taken gets past the limit),
    then the registration rules."""
    invitation = await invitation_for(invitation_token)
    await runtime().limiters.register_ip.spend(client_block(), REGISTER_LIMITED)
    return await users.register(username, email, password, confirm, invitation=invitation,
                                display_name=display_name)


async def load_session() -> None:
    """before_request / before_websocket: resolve the cookie to a live session, or to nobody."""
    if has_request_context() and request.endpoint == "static":
        return  # static files need no session: no query per stylesheet and script
    if is_api_path((request if has_request_context() else websocket).path):
        return  # cookies never authenticate the API
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
