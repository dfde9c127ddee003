"""Settings from the environment, with defaults that run on a fresh machine."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT / "data"

MODEL_MODULES = ["app.models", "aerich.models"]


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _registration(value: str | None) -> str:
    mode = (value or "invite").strip().lower()
    if mode not in ("invite", "open", "closed"):
        # A typo must not quietly open (or close) the site: refuse to start, saying what is allowed.
        raise ValueError(f"HUDDLE_REGISTRATION is {value!r}: use invite, open or closed.")
    return mode


def tortoise_config(database_url: str) -> dict:
    """The Tortoise config that both the app and aerich use."""
    return {
        "connections": {"default": database_url},
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


@dataclass
class Settings:
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    secret_key: str | None = None
    broker_url: str = "memory://"
    # Who may register once the first account exists: "invite" (by invitation link; the default),
    # "open" (anyone who reaches the site) or "closed" (administrators add people).
    registration: str = "invite"
    # Keys and channels in Redis start with this (several sites may share one Redis).
    redis_prefix: str = "huddle:"
    base_url: str = "http://127.0.0.1:8000"
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
    max_body_bytes: int = 1024 * 1024
    smtp_url: str = ""
    mail_from: str = "Huddle <huddle@localhost>"
    reset_token_seconds: int = 3600
    # Password-reset requests allowed per address and per IP in an hour.
    reset_requests_per_email: int = 3
    reset_requests_per_ip: int = 20
    # Accounts that may be registered from one address (IPv6: one /64) in an hour: a team of
    # 30 in one office fits; a script making thousands does not.
    registrations_per_address_per_hour: int = 40
    templates_auto_reload: bool = False
    # Chat messages one user may post in 10 seconds (then 429 with Retry-After).
    posts_per_10_seconds: int = 20
    # Browser sessions kept per user: logging in on one more device logs out the oldest.
    sessions_per_user: int = 50
    # Live sockets one browser session / one user may hold per worker; past it the oldest closes.
    live_sockets_per_session: int = 12
    live_sockets_per_user: int = 30
    # Other names this site answers to (host or host:port), e.g. behind a proxy.
    trusted_hosts: tuple[str, ...] = ()
    # A user whose last page closed stays "online" this long: navigating is not leaving.
    presence_grace_seconds: float = 10.0
    # Several workers: a worker that dies without a word has its users go offline after this.
    presence_ttl_seconds: float = 60.0
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("HUDDLE_DATA_DIR") or DEFAULT_DATA_DIR)
        return cls(
            data_dir=data_dir,
            database_url=os.environ.get("HUDDLE_DATABASE_URL") or "",
            secret_key=os.environ.get("HUDDLE_SECRET_KEY") or None,
            broker_url=os.environ.get("HUDDLE_BROKER_URL") or "memory://",
            redis_prefix=os.environ.get("HUDDLE_REDIS_PREFIX") or "huddle:",
            registration=_registration(os.environ.get("HUDDLE_REGISTRATION")),
            base_url=(os.environ.get("HUDDLE_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
            cookie_secure=(
                _env_bool("HUDDLE_COOKIE_SECURE", False)
                if os.environ.get("HUDDLE_COOKIE_SECURE")
                else None
            ),
            session_idle_seconds=_env_int("HUDDLE_SESSION_IDLE_SECONDS", 14 * 24 * 3600),
            session_max_age_seconds=_env_int("HUDDLE_SESSION_MAX_AGE_SECONDS", 30 * 24 * 3600),
            login_failures_per_user=_env_int("HUDDLE_LOGIN_FAILURES_PER_USER", 5),
            login_failures_per_ip=_env_int("HUDDLE_LOGIN_FAILURES_PER_IP", 30),
            login_window_seconds=_env_int("HUDDLE_LOGIN_WINDOW_SECONDS", 300),
            argon2_memory_kib=_env_int("HUDDLE_ARGON2_MEMORY_KIB", 19456),
            templates_auto_reload=_env_bool("QUART_TEMPLATES_AUTO_RELOAD", False),
            smtp_url=os.environ.get("HUDDLE_SMTP_URL") or "",
            mail_from=os.environ.get("HUDDLE_MAIL_FROM") or "Huddle <huddle@localhost>",
            reset_token_seconds=_env_int("HUDDLE_RESET_TOKEN_SECONDS", 3600),
            registrations_per_address_per_hour=_env_int("HUDDLE_REGISTRATIONS_PER_ADDRESS_PER_HOUR", 40),
            posts_per_10_seconds=_env_int("HUDDLE_POSTS_PER_10_SECONDS", 20),
            sessions_per_user=_env_int("HUDDLE_SESSIONS_PER_USER", 50),
            live_sockets_per_session=_env_int("HUDDLE_LIVE_SOCKETS_PER_SESSION", 12),
            live_sockets_per_user=_env_int("HUDDLE_LIVE_SOCKETS_PER_USER", 30),
            trusted_hosts=tuple(h.strip() for h in os.environ.get("HUDDLE_TRUSTED_HOSTS", "").split(",") if h.strip()),
            presence_grace_seconds=float(os.environ.get("HUDDLE_PRESENCE_GRACE_SECONDS") or 10),
            presence_ttl_seconds=float(os.environ.get("HUDDLE_PRESENCE_TTL_SECONDS") or 60),
        )

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

    def load_secret_key(self) -> str:
        """HUDDLE_SECRET_KEY, or one generated once and kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Write a private temp file, then link it into place: atomic, and if another
        # worker won the race we read its key instead of a half-written file.
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        key = path.read_text().strip()
        return key


def _aerich_config() -> dict:
    # Read by the aerich CLI through [tool.tortoise] in pyproject.toml.
    return tortoise_config(Settings.from_env().resolved_database_url())


TORTOISE_ORM = _aerich_config()
