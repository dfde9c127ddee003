"""API tokens: HS256 JWTs whose `jti` names a server-side session of kind "api".

The signature keeps a forged or altered token from reaching the database; the session row is
what makes a token revocable. Revoking it on /account/sessions, logging out through the API,
changing or resetting the password and deleting the account all delete the row, and the token
stops working on the next request (and its open sockets are told at once)."""
from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import jwt
from quart import current_app

from app.accounts import service as users
from app.domain import storable
from app.models import User, UserSession
from app.models.session import hash_token

KIND = "api"
ALGORITHM = "HS256"
ISSUER = "huddle"


def _key() -> bytes:
    # A key of its own, derived from the site's secret: an API token is never a valid cookie.
    return hmac.new(current_app.secret_key.encode(), b"huddle api token v1", hashlib.sha256).digest()


async def issue(user: User, *, user_agent: str = "", ip: str = "") -> tuple[UserSession, str]:
    """A new session of kind api for user, and the JWT that names it (shown to the client once).
    Only the newest HUDDLE_SESSIONS_PER_USER tokens are kept: the oldest ends."""
    session, secret = await UserSession.start(user, kind=KIND, user_agent=user_agent, ip=ip)
    settings = current_app.config["HUDDLE"]
    await users.trim_sessions(user, settings.sessions_per_user, kind=KIND)
    now = session.created_at
    expires = now + timedelta(seconds=settings.session_max_age_seconds)
    claims = {"iss": ISSUER, "sub": str(user.id), "jti": secret,
              "iat": int(now.timestamp()), "exp": int(expires.timestamp())}
    return session, jwt.encode(claims, _key(), algorithm=ALGORITHM)


def _claims(token: str) -> dict | None:
    if not storable(token):
        return None  # no token holds a NUL or a lone surrogate (PyJWT could not even encode one)
    try:
        return jwt.decode(
            token, _key(), algorithms=[ALGORITHM], issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "jti", "iss"]},
        )
    except jwt.PyJWTError:
        return None


async def resolve(token: str | None) -> UserSession | None:
    """The live api session this token names (with its user), or None: bad signature, expired,
    revoked, or not an API token."""
    if not token or len(token) > 4096:
        return None
    claims = _claims(token)
    if claims is None or not isinstance(claims.get("jti"), str):
        return None
    settings = current_app.config["HUDDLE"]
    session = await UserSession.from_token(
        claims["jti"], idle=settings.session_idle_seconds, max_age=settings.session_max_age_seconds
    )
    if session is None or session.kind != KIND or str(session.user_id) != claims["sub"]:
        return None
    await session.touch()
    return session


def bearer(header: str | None) -> str | None:
    """The token in an `Authorization: Bearer <token>` header, or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


async def revoke(user: User, token: str) -> bool:
    """Log out the device holding token, if it is one of user's API tokens (its sockets close)."""
    claims = _claims(token)
    if claims is None or claims.get("sub") != str(user.id):
        return False
    session = await UserSession.get_or_none(token_hash=hash_token(claims["jti"]), user_id=user.id, kind=KIND)
    if session is None:
        return False
    await users.end_session(session, "revoked")
    return True
