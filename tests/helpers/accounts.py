"""Test users, made the one way the app makes them."""
from __future__ import annotations

from app.models import User
from tests.helpers import PASSWORD


async def make_user(username: str, *, admin: bool = False, password: str = PASSWORD) -> User:
    return await User.create_account(username, f"{username.lower()}@example.com", password, is_admin=admin)
