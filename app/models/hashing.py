"""Password hashing: argon2id through passlib (the maintained libpass fork), off the event loop.
It lives with the models (User stores the hash it makes); the account rules use it from here.

The memory cost is the setting argon2_memory_kib (HUDDLE_ARGON2_MEMORY_KIB; OWASP's 19 MiB by
default). create_app passes it to configure(); a process that never builds the app (the command
line) reads it from the environment on first use."""
from __future__ import annotations

import asyncio
from functools import lru_cache

from passlib.context import CryptContext

from app.config import Settings
from app.domain import lone_surrogate, text_problem

MIN_LENGTH = 8
MAX_LENGTH = 1024  # generous; argon2 hashes every character, nothing is truncated

_context: CryptContext | None = None


def configure(memory_kib: int) -> None:
    """Hash new passwords with argon2id at this memory cost (KiB), 2 iterations, 1 lane.

    Existing hashes keep verifying: each hash carries its own parameters."""
    global _context
    _context = CryptContext(
        schemes=["argon2"],
        argon2__type="ID",
        argon2__memory_cost=memory_kib,
        argon2__rounds=2,
        argon2__parallelism=1,
    )
    _dummy_hash.cache_clear()  # the unknown-user verify must cost what a real one does


def _current() -> CryptContext:
    if _context is None:
        configure(Settings.from_env().argon2_memory_kib)
    return _context


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_current().hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Verify; with no hash (unknown user) spend the same time and answer False."""
    context = _current()
    if len(password) > MAX_LENGTH or lone_surrogate(password):
        # No password this long was ever accepted (passlib refuses > 4 KiB), nor one with a lone
        # surrogate (UTF-8 cannot encode it, so it cannot be hashed).
        password_hash = None
        password = ""
    if password_hash is None:
        await asyncio.to_thread(context.verify, password, _dummy_hash())
        return False
    return await asyncio.to_thread(context.verify, password, password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _current().hash("not a password anyone has")


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    return text_problem(password)
