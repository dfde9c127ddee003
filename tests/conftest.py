"""Fixtures: a real SQLite database per test (migrated by the real migrations), named users,
and clients that carry the CSRF token like a browser's page would. Helpers live in tests/helpers/:
test modules import them from there."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from app.config import ROOT, Settings
from app.models import User, hashing
from tests.helpers import ARGON2_MEMORY_KIB, PASSWORD
from tests.helpers.accounts import make_user
from tests.helpers.client import Client
from tests.helpers.postgres import scratch_database


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
        # Most tests register freely; tests/test_invitations.py covers the default (by invitation).
        registration="open",
    )


@pytest.fixture
async def app(settings):
    app = create_app(settings)
    async with app.test_app():
        yield app


@pytest.fixture
def client(app) -> Client:
    return Client(app)


@pytest.fixture
def make_client(app):
    """More browsers, for tests with several devices or people."""
    return lambda: Client(app)


@pytest.fixture
def sign_in(make_client):
    """A browser of its own, logged in: `alices = await sign_in("alice")`."""
    async def sign_in(username: str, password: str = PASSWORD) -> Client:
        client = make_client()
        await client.login(username, password)
        return client
    return sign_in


@pytest.fixture
async def admin(app) -> User:
    return await make_user("admin", admin=True)


@pytest.fixture
async def alice(app, admin) -> User:
    return await make_user("alice")


@pytest.fixture
async def bob(app, admin) -> User:
    return await make_user("bob")


@pytest.fixture
async def redis_client():
    """A connection to the real Redis (tests/helpers/redis.py), closed afterwards."""
    from tests.helpers.redis import connect

    client = await connect()
    yield client
    await client.aclose()


@pytest.fixture
def pg_database():
    """A fresh PostgreSQL database's URL (tests/helpers/postgres.py), dropped afterwards."""
    yield from scratch_database()


@pytest.fixture
async def general(app, admin, alice, bob):
    """#general, with the admin, alice and bob in it (as their registration would have made them)."""
    from app.chat import service

    async with app.app_context():
        for person in (admin, alice, bob):
            await service.welcome(person)
        return await service.general()
