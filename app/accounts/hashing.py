"""Password hashing: argon2id through passlib (the maintained libpass fork), off the event loop."""
from __future__ import annotations

import asyncio
from functools import lru_cache

from passlib.context import CryptContext

MIN_LENGTH = 8
MAX_LENGTH = 1024  # generous; argon2 hashes every character, nothing is truncated

# OWASP's argon2id baseline: 19 MiB memory, 2 iterations, 1 lane.
_context = CryptContext(
    schemes=["argon2"],
    argon2__type="ID",
    argon2__memory_cost=19456,
    argon2__rounds=2,
    argon2__parallelism=1,
)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_context.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Verify; with no hash (unknown user) spend the same time and answer False."""
    if password_hash is None:
        await asyncio.to_thread(_context.verify, password, _dummy_hash())
        return False
    return await asyncio.to_thread(_context.verify, password, password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _context.hash("not a password anyone has")


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    return None
