"""Settings from the environment (HUDDLE_*): each declared once below, with its type and its
default, and the defaults run on a fresh machine. Importing this module reads no environment:
`Settings.from_env()` does, when the app or the command line starts."""
from __future__ import annotations

import secrets
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.private_files import private_file_once

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT / "data"

MODEL_MODULES = ["app.models", "aerich.models"]
ENV_PREFIX = "HUDDLE_"
REGISTRATION_MODES = ("invite", "open", "closed")

# Set only while Settings.from_env() builds its settings: `Settings(...)` alone is exactly what
# it is given plus the defaults (tests), whatever the environment holds.
_reading_environment: ContextVar[bool] = ContextVar("reading_environment", default=False)


class SettingsError(ValueError):
    """A setting in the environment the site must not start with; says which, and what is allowed."""


def tortoise_config(database_url: str) -> dict:
    """The Tortoise config that both the app and aerich use."""
    return {
        "connections": {"default": database_url},
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


class Settings(BaseSettings):
    """Field `name` is read from HUDDLE_NAME (empty counts as unset); README.md's Configuration
    table documents each one (tests/test_config.py keeps the two in step)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, validate_by_name=True, extra="forbid",
    )

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    secret_key: str | None = Field(None, repr=False)  # never in a log or a traceback
    broker_url: str = "memory://"
    # Who may register once the first account exists: "invite" (by invitation link; the default),
    # "open" (anyone who reaches the site) or "closed" (administrators add people).
    registration: Literal["invite", "open", "closed"] = "invite"
    # Keys and channels in Redis start with this (several sites may share one Redis).
    redis_prefix: str = "huddle:"
    base_url: str = "http://127.0.0.1:8000"
    # None (unset): Secure cookies exactly when base_url is https.
    cookie_secure: bool | None = None
    # Sessions end after this much idleness, and in any case after max_age.
    session_idle_seconds: int = 14 * 24 * 3600
    session_max_age_seconds: int = 30 * 24 * 3600
    # Failed logins allowed per username (and, more loosely, per IP) in a window.
    login_failures_per_user: int = 5
    login_failures_per_ip: int = 30
    login_window_seconds: int = 300
    # argon2id memory cost of new password hashes (with 2 iterations, 1 lane): OWASP's baseline.
    argon2_memory_kib: int = 19456
    smtp_url: str = ""
    mail_from: str = "Huddle <huddle@localhost>"
    reset_token_seconds: int = 3600
    # Sign-up attempts one address (IPv6: one /64) may make in an hour, each counted whatever
    # comes of it (an account, or a refusal such as a taken name or a short password): a team of
    # 30 in one office joins with 20 mistakes to spare; a script making accounts, or probing
    # which addresses are registered, is stopped (429).
    registrations_per_address_per_hour: int = 50
    # Quart's own variable (`make dev` sets it), not a HUDDLE_ one.
    templates_auto_reload: bool = Field(False, validation_alias="QUART_TEMPLATES_AUTO_RELOAD")
    # Chat messages one user may post in 10 seconds (then 429 with Retry-After).
    posts_per_10_seconds: int = 20
    # Browser sessions kept per user: logging in on one more device logs out the oldest.
    sessions_per_user: int = 50
    # Live sockets one browser session / one user may hold per worker; past it the oldest closes.
    live_sockets_per_session: int = 12
    live_sockets_per_user: int = 30
    # Other names this site answers to (host or host:port), e.g. behind a proxy; comma-separated.
    trusted_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    # A user whose last page closed stays "online" this long: navigating is not leaving.
    presence_grace_seconds: float = 10.0
    # Several workers: a worker that dies without a word has its users go offline after this.
    presence_ttl_seconds: float = 60.0
    # Web Push (app/notify/push*.py). The private VAPID key that signs every push (base64url of the
    # raw 32-byte P-256 key, or PEM): set the same on every host; unset, one is generated once into
    # data/vapid_private_key.pem (mode 600), shared by the workers of one host.
    vapid_private_key: str | None = Field(None, repr=False)
    # The site administrator's address: the VAPID subject (mailto:) push services write to about
    # this site's pushes. Unset: https://<the base URL's host>.
    admin_email: str = ""
    # Push endpoints taken although they are not https on a public address: scheme://host:port,
    # comma-separated (the tests' local receiver; a self-hosted push relay on the private network).
    push_allowed_origins: Annotated[tuple[str, ...], NoDecode] = ()
    # off: pushes carry who and where, never the message's text.
    push_preview: bool = True
    # Files (app/files/, app/storage/). Where they are kept: unset, the data folder's files/;
    # s3://bucket?endpoint=https://host&region=…: an S3-compatible bucket (keys from
    # AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), for several hosts.
    storage_url: str = ""
    # The largest file one may upload (bytes), refused while it streams in (413).
    upload_max_bytes: int = 25 * 1024 * 1024
    # What one person's files may take in all (bytes; files in deleted messages are freed).
    upload_quota_bytes: int = 2 * 1024 * 1024 * 1024
    # Link previews (app/links/): hosts the fetcher may reach although they are not public, as
    # "host:port" (comma-separated), for tests and a site's own intranet. Empty: public only.
    preview_allowed_hosts: str = ""
    # off: no link previews at all, whatever the admin page says (a site that must make no outside
    # requests); on: an administrator turns them on or off on the admin page.
    link_previews: bool = True

    # Fixed limits, not read from the environment (make one a field, and a README row, to change that).
    max_body_bytes: ClassVar[int] = 1024 * 1024
    # Password-reset requests allowed per address and per IP in an hour.
    reset_requests_per_email: ClassVar[int] = 3
    reset_requests_per_ip: ClassVar[int] = 20

    @field_validator("registration", mode="before")
    @classmethod
    def _registration(cls, value: Any) -> Any:
        mode = value.strip().lower() if isinstance(value, str) else value
        if mode not in REGISTRATION_MODES:
            # A typo must not quietly open (or close) the site: refuse to start, saying what is allowed.
            raise ValueError(f"HUDDLE_REGISTRATION is {value!r}: use invite, open or closed.")
        return mode

    @field_validator("preview_allowed_hosts")
    @classmethod
    def _preview_allowed_hosts(cls, value: str) -> str:
        from app.web.addresses import allowed_hosts  # (what the fetcher reads it with)

        try:
            allowed_hosts(value)
        except ValueError as error:
            # A typo must not stop link previews later, in a worker's log: refuse to start, saying why.
            raise ValueError(f"HUDDLE_PREVIEW_ALLOWED_HOSTS: {error} (write host:port, comma-separated)") from None
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("trusted_hosts", mode="before")
    @classmethod
    def _trusted_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(host.strip() for host in value.split(",") if host.strip())
        return value

    @field_validator("push_allowed_origins", mode="before")
    @classmethod
    def _push_allowed_origins(cls, value: Any) -> Any:
        items = [each.strip() for each in value.split(",")] if isinstance(value, str) else list(value or ())
        origins = []
        for item in filter(None, items):
            origin, parts = url_origin(item), urlsplit(item)
            if origin is None or parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
                raise ValueError(f"HUDDLE_PUSH_ALLOWED_ORIGINS has {item!r}: give scheme://host:port, comma-separated.")
            origins.append(origin)
        return tuple(origins)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        if _reading_environment.get():
            return init_settings, env_settings
        return (init_settings,)

    @classmethod
    def from_env(cls) -> Settings:
        """The settings of this process: HUDDLE_* (and QUART_TEMPLATES_AUTO_RELOAD) over the defaults.
        A value that does not fit raises SettingsError naming the variable."""
        token = _reading_environment.set(True)
        try:
            return cls()
        except ValidationError as error:
            raise SettingsError("\n".join(_explain(each) for each in error.errors())) from None
        finally:
            _reading_environment.reset(token)

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable a field is read from."""
        alias = cls.model_fields[field].validation_alias
        return alias if isinstance(alias, str) else ENV_PREFIX + field.upper()

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed (and checked), like dataclasses.replace."""
        return type(self)(**{**self.model_dump(), **changes})

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite://{self.data_dir / 'huddle.db'}"

    def resolved_cookie_secure(self) -> bool:
        """Secure cookies whenever the site is served over https, unless told otherwise."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return urlsplit(self.base_url).scheme == "https"

    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def allowed_hosts(self) -> set[str]:
        """The Host names requests may use: the base URL's, and HUDDLE_TRUSTED_HOSTS."""
        return {urlsplit(self.base_url).netloc.lower(), *(host.lower() for host in self.trusted_hosts)}

    def allowed_origins(self) -> set[str]:
        """Origins of our own pages: the base URL's scheme on each allowed host."""
        scheme = urlsplit(self.base_url).scheme
        return {f"{scheme}://{host}" for host in self.allowed_hosts()}

    def vapid_subject(self) -> str:
        """Who push services should write to about this site's pushes (the VAPID `sub`)."""
        if self.admin_email.strip():
            return "mailto:" + self.admin_email.strip()
        return f"https://{urlsplit(self.base_url).hostname}"

    def load_secret_key(self) -> str:
        """HUDDLE_SECRET_KEY, or one generated once and kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        return private_file_once(path, lambda: secrets.token_urlsafe(48).encode()).decode().strip()


def url_origin(url: str) -> str | None:
    """`scheme://host:port` of an http(s) URL, lower-cased and with its port always written, or
    None if it has none (so `https://push.example` and `https://PUSH.example:443/x` are one origin)."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or port is None:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme.lower()}://{host.lower()}:{port}"


def _explain(error: Any) -> str:
    key = str(error["loc"][0]) if error["loc"] else ""
    variable = Settings.env_name(key) if key in Settings.model_fields else key
    if error["type"] == "value_error":  # our own validators' messages name the variable already
        return str(error["ctx"]["error"])
    return f"{variable} is {error['input']!r}: {error['msg']}."


def __getattr__(name: str) -> Any:
    # aerich (and Tortoise's CLI) read `app.config.TORTOISE_ORM`, named by [tool.tortoise] in
    # pyproject.toml, with getattr: worked out only then, so importing this module reads nothing.
    if name == "TORTOISE_ORM":
        return tortoise_config(Settings.from_env().resolved_database_url())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
