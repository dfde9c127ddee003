"""Fixtures: a real SQLite database per test (migrated by the real migrations), named users,
and clients that carry the CSRF token like a browser's page would. Helpers live in tests/helpers/:
test modules import them from there."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from quart import Quart

from app import create_app
from app.config import ROOT, Settings
from app.models import User, hashing
from tests.helpers import ARGON2_MEMORY_KIB, PASSWORD
from tests.helpers.accounts import make_user
from tests.helpers.client import Client
from tests.helpers.postgres import scratch_database
from tests.helpers.routing import share_url_builders

share_url_builders()  # nearly every test builds an app: its URL builders are compiled once a process


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


def site_settings(folder: Path, migrated_db: Path) -> Settings:
    """A site in `folder`, on a copy of the migrated database."""
    shutil.copy(migrated_db, folder / "huddle.db")
    return Settings(
        data_dir=folder,
        database_url=f"sqlite://{folder / 'huddle.db'}",
        secret_key="test secret key, not for production",
        base_url="http://localhost",
        argon2_memory_kib=ARGON2_MEMORY_KIB,
        # Most tests register freely; tests/test_invitations.py covers the default (by invitation).
        registration="open",
        # No test reaches the internet: link previews are on only where a test turns them on (and
        # points them at its own server: tests/test_link_previews.py).
        link_previews=False,
    )


@pytest.fixture
def settings(tmp_path, migrated_db) -> Settings:
    return site_settings(tmp_path, migrated_db)


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


@dataclass
class Site:
    """A running app with the admin, alice and bob, and one browser per role: "anonymous", "user"
    (alice, signed in) and "admin" (signed in)."""
    app: Quart
    admin: User
    alice: User
    bob: User
    clients: dict[str, Client]


@pytest_asyncio.fixture(scope="class", loop_scope="class")
async def site(tmp_path_factory, migrated_db):
    """One Site shared by a test class's cases, for the many cases that change nothing it holds
    (a case that logs out or deletes an account takes the function-scoped fixtures instead): one
    app start and three logins instead of one each per case. The class's tests run on the class's
    event loop: `pytestmark = pytest.mark.asyncio(loop_scope="class")` in the class."""
    app = create_app(site_settings(tmp_path_factory.mktemp("site"), migrated_db))
    async with app.test_app():
        admin, alice, bob = await make_user("admin", admin=True), await make_user("alice"), await make_user("bob")
        clients = {"anonymous": Client(app), "user": Client(app), "admin": Client(app)}
        await clients["user"].login("alice")
        await clients["admin"].login("admin")
        yield Site(app, admin, alice, bob, clients)


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
    from tests.helpers.chat import welcomed

    async with app.app_context():
        return await welcomed(admin, alice, bob)


@pytest.fixture
def receiver():
    """A push service of our own (tests/helpers/push_receiver.py): checks VAPID, decrypts, answers
    as a test chooses. A test's module lists its origin in its settings to be pushed to."""
    from tests.helpers.push_receiver import PushReceiver

    made = PushReceiver()
    yield made
    made.close()


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 API (moto's server, tests/helpers/s3.py), one per test process."""
    from tests.helpers.s3 import S3Server

    server = S3Server()
    yield server
    server.stop()


@pytest.fixture
def s3_url(s3_server, monkeypatch) -> str:
    """The HUDDLE_STORAGE_URL of a new, empty bucket of the test's own, its credentials in the
    environment as an operator would set them."""
    from tests.helpers.s3 import ACCESS

    for name, value in ACCESS.items():
        monkeypatch.setenv(name, value)
    return s3_server.url(s3_server.bucket())
