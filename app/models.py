"""Database models: small, with their behaviour and query helpers."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from tortoise import fields
from tortoise.models import Model

from app import clock, passwords, usernames


class User(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=30)
    # Case-folded, NFKC-normalised username: what makes a name unique.
    username_key = fields.CharField(max_length=30, unique=True)
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=255)
    is_admin = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField(null=True)

    sessions: fields.ReverseRelation["UserSession"]

    class Meta:
        table = "users"
        ordering = ["username_key"]

    def __str__(self) -> str:
        return self.username

    @classmethod
    async def by_username(cls, username: str) -> "User | None":
        return await cls.get_or_none(username_key=usernames.key(username))

    @classmethod
    async def create_account(cls, username: str, email: str, password: str, *, is_admin: bool = False) -> "User":
        """A new user from already-checked values (app.forms.check_new_account)."""
        return await cls.create(
            username=username,
            username_key=usernames.key(username),
            email=email,
            password_hash=await passwords.hash_password(password),
            is_admin=is_admin,
        )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
    async def start(cls, user: User, *, kind: str = "web", user_agent: str = "", ip: str = "") -> tuple["UserSession", str]:
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
    async def from_token(cls, token: str, *, idle: int, max_age: int) -> "UserSession | None":
        """The live session this token names, with its user; expired ones are deleted."""
        session = await cls.get_or_none(token_hash=hash_token(token)).select_related("user")
        if session is None:
            return None
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
        """A short human name for the browser and system in the user agent."""
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


class AuditEvent(Model):
    """Who did what to whom: names are copied so entries outlive the accounts they mention."""

    id = fields.IntField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    actor_name = fields.CharField(max_length=30, default="")
    action = fields.CharField(max_length=40)
    target: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    target_name = fields.CharField(max_length=30, default="")
    detail = fields.CharField(max_length=500, default="")

    class Meta:
        table = "audit_events"
        ordering = ["-id"]

    LABELS = {
        "user.created": "created the account of",
        "user.registered": "registered as",
        "user.edited": "edited",
        "admin.granted": "made an administrator:",
        "admin.removed": "removed administrator rights from",
        "password.set_by_admin": "set a new password for",
        "user.deleted": "deleted",
        "sessions.revoked": "ended sessions of",
    }

    @classmethod
    async def record(cls, actor: User | None, action: str, target: User | None, detail: str = "") -> "AuditEvent":
        return await cls.create(
            actor=actor,
            actor_name=actor.username if actor else "",
            action=action,
            target=target,
            target_name=target.username if target else "",
            detail=detail[:500],
        )

    @classmethod
    async def page(cls, before: int | None = None, size: int = 50) -> list["AuditEvent"]:
        """Newest first, keyset-paginated by id."""
        query = cls.all()
        if before is not None:
            query = query.filter(id__lt=before)
        return await query.order_by("-id").limit(size)

    @property
    def label(self) -> str:
        return self.LABELS.get(self.action, self.action)


class Feedback(Model):
    """A note from a user to the people who run the site."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=100)
    content = fields.TextField()
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="feedback", on_delete=fields.CASCADE, db_index=True
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "feedback"
        ordering = ["-id"]

    TITLE_MAX = 100
    CONTENT_MAX = 10_000

    @classmethod
    async def page(cls, *, author: User | None = None, before: int | None = None, size: int = 20) -> list["Feedback"]:
        """Newest first, keyset-paginated by id, with each author loaded in the same query."""
        query = cls.all().select_related("author")
        if author is not None:
            query = query.filter(author_id=author.id)
        if before is not None:
            query = query.filter(id__lt=before)
        return await query.order_by("-id").limit(size)


def password_fingerprint(password_hash: str) -> str:
    """Changes whenever the password does: a reset token issued before that is void."""
    return hash_token(password_hash)


class PasswordResetToken(Model):
    """A one-time, expiring token for the emailed reset link; only its hash is stored."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="reset_tokens", on_delete=fields.CASCADE, db_index=True
    )
    password_fingerprint = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()

    class Meta:
        table = "password_reset_tokens"

    @classmethod
    async def issue(cls, user: User, lifetime: int) -> str:
        """A new token for user (>= 128 random bits); any older one is void from now on."""
        await cls.filter(user_id=user.id).delete()
        token = secrets.token_urlsafe(32)
        now = clock.now()
        await cls.create(
            token_hash=hash_token(token),
            user=user,
            password_fingerprint=password_fingerprint(user.password_hash),
            created_at=now,
            expires_at=now + timedelta(seconds=lifetime),
        )
        return token

    @classmethod
    async def find(cls, token: str) -> "PasswordResetToken | None":
        """The live token, with its user; expired or superseded-by-a-new-password ones are None."""
        row = await cls.get_or_none(token_hash=hash_token(token)).select_related("user")
        if row is None:
            return None
        if row.expires_at <= clock.now() or row.password_fingerprint != password_fingerprint(row.user.password_hash):
            await row.delete()
            return None
        return row
