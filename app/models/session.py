"""Signed-in devices and API tokens: revocable, because only their hash is stored."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from tortoise import fields
from tortoise.models import Model

from app import clock
from app.models import reads
from app.models.user import User


def hash_token(token: str) -> str:
    # Tokens are ASCII; whatever else is sent (a lone surrogate from JSON) hashes too, to nothing found.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class UserSession(Model):
    """One signed-in device (kind web) or API token (kind api); deleting the row ends it."""

    id = fields.IntField(primary_key=True)
    # sha256 of the opaque token in the cookie: a database leak yields no usable cookie.
    token_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE, db_index=True
    )
    kind = fields.CharField(max_length=8, default="web")
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    user_agent = fields.CharField(max_length=255, default="")
    ip = fields.CharField(max_length=45, default="")

    class Meta:
        table = "user_sessions"
        ordering = ["-last_seen_at"]

    @classmethod
    async def start(
        cls, user: User, *, kind: str = "web", user_agent: str = "", ip: str = ""
    ) -> tuple[UserSession, str]:
        """Create a session; returns it and the token (>= 128 random bits) only the client keeps."""
        token = secrets.token_urlsafe(32)
        now = clock.now()
        session = await cls.create(
            token_hash=hash_token(token),
            user=user,
            kind=kind,
            created_at=now,
            last_seen_at=now,
            user_agent=user_agent[:255],
            ip=ip[:45],
        )
        user.last_seen_at = now
        await User.filter(id=user.id).update(last_seen_at=now)
        return session, token

    @classmethod
    async def from_token(cls, token: str, *, idle: int, max_age: int) -> UserSession | None:
        """The live session this token names, with its user; expired ones are deleted."""
        found = await reads.rows(
            f"SELECT {reads.columns(cls, 's')}, {reads.columns(User, 'u', 'u_')} FROM user_sessions s "
            "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?", [hash_token(token)])
        if not found:
            return None
        session = reads.instance(cls, found[0])
        session.user = reads.instance(User, found[0], "u_")
        now = clock.now()
        if now - session.last_seen_at > timedelta(seconds=idle) or now - session.created_at > timedelta(
            seconds=max_age
        ):
            await session.delete()
            return None
        return session

    async def touch(self, every: int = 60) -> None:
        """Record activity, at most once a minute so reads stay reads."""
        now = clock.now()
        if now - self.last_seen_at >= timedelta(seconds=every):
            self.last_seen_at = now
            await UserSession.filter(id=self.id).update(last_seen_at=now)
            await User.filter(id=self.user_id).update(last_seen_at=now)
            self.user.last_seen_at = now

    @property
    def device(self) -> str:
        """A short human name: the browser and system in the user agent, or which API token."""
        if self.kind == "api":
            return f"API token ({describe_user_agent(self.user_agent)})" if self.user_agent else "API token"
        return describe_user_agent(self.user_agent)


def describe_user_agent(ua: str) -> str:
    if not ua:
        return "Unknown device"
    browser = next(
        (name for token, name in (
            ("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
            ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari"),
            ("curl/", "curl"), ("python", "Python client"),
        ) if token in ua),
        "Browser",
    )
    system = next(
        (name for token, name in (
            ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"),
        ) if token in ua),
        "",
    )
    return f"{browser} on {system}" if system else browser
