"""Fixtures: a real SQLite database per test (migrated by the real migrations), named users,
and a client that carries the CSRF token like a browser's page would."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from app.accounts import hashing
from app.config import ROOT, Settings
from app.models import User
from tests.helpers import ARGON2_MEMORY_KIB

PASSWORD = "correct horse battery"
TOKEN_RE = re.compile(r'"X-CSRF-Token": "([^"]+)"')


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory) -> Path:
    """One database migrated by `python -m app migrate`; each test gets a copy."""
    folder = tmp_path_factory.mktemp("template")
    env = dict(os.environ, HUDDLE_DATA_DIR=str(folder), HUDDLE_DATABASE_URL=f"sqlite://{folder / 'huddle.db'}")
    subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    return folder / "huddle.db"


@pytest.fixture(autouse=True)
def cheap_password_hashing():
    """Every test starts at the tests' argon2 cost, whatever the test before it configured."""
    hashing.configure(ARGON2_MEMORY_KIB)


@pytest.fixture
def settings(tmp_path, migrated_db) -> Settings:
    shutil.copy(migrated_db, tmp_path / "huddle.db")
    return Settings(
        data_dir=tmp_path,
        database_url=f"sqlite://{tmp_path / 'huddle.db'}",
        secret_key="test secret key, not for production",
        base_url="http://localhost",
        argon2_memory_kib=ARGON2_MEMORY_KIB,
    )


@pytest.fixture
async def app(settings):
    app = create_app(settings)
    async with app.test_app():
        yield app


class Client:
    """Quart's test client plus what a page gives a browser: the CSRF token for its forms."""

    def __init__(self, app):
        self.app = app
        self.raw = app.test_client()
        self._token: str | None = None

    async def token(self) -> str:
        page = await self.raw.get("/")
        match = TOKEN_RE.search(await page.get_data(as_text=True))
        assert match, "every page carries the CSRF token"
        self._token = match.group(1)
        return self._token

    async def get(self, path: str, **kwargs):
        return await self.raw.get(path, **kwargs)

    async def post(self, path: str, data: dict | None = None, *, csrf: bool = True, htmx: bool = False, headers=None, **kwargs):
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", await self.token())
        headers = dict(headers or {})
        if htmx:
            headers["HX-Request"] = "true"
        return await self.raw.post(path, form=form, headers=headers, **kwargs)

    async def login(self, username: str, password: str = PASSWORD):
        response = await self.post("/login", {"username": username, "password": password})
        assert response.status_code == 303, await response.get_data(as_text=True)
        return response

    def cookie(self, name: str = "huddle_auth") -> str | None:
        for cookie in self.raw.cookie_jar:
            if cookie.name == name:
                return cookie.value
        return None

    def set_cookie(self, value: str, name: str = "huddle_auth") -> None:
        self.raw.set_cookie("localhost", name, value)


@pytest.fixture
def client(app) -> Client:
    return Client(app)


@pytest.fixture
def make_client(app):
    """More browsers, for tests with several devices or people."""
    return lambda: Client(app)


async def make_user(username: str, *, admin: bool = False, password: str = PASSWORD) -> User:
    return await User.create_account(username, f"{username.lower()}@example.com", password, is_admin=admin)


@pytest.fixture
async def admin(app) -> User:
    return await make_user("admin", admin=True)


@pytest.fixture
async def alice(app, admin) -> User:
    return await make_user("alice")


@pytest.fixture
async def bob(app, admin) -> User:
    return await make_user("bob")


def text_of(html: str) -> str:
    """Visible text, roughly: tags dropped, whitespace folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())
