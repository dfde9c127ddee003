"""The command line an operator uses: migrate, create-user, grant-admin (acting as SYSTEM, while a
missing actor is refused); and the secret key."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from types import SimpleNamespace

import pytest

from app.accounts import service as accounts
from app.admin import service as admin_service
from app.admin.audit_log import sentence
from app.config import ROOT, Settings
from app.models import AuditEvent, User
from tests.helpers import ARGON2_MEMORY_KIB, PASSWORD

NEW = {"username": "gina", "email": "gina@example.com", "password": PASSWORD, "confirm_password": PASSWORD}


def cli(tmp_path, *args, stdin: str = ""):
    env = dict(os.environ, HUDDLE_DATA_DIR=str(tmp_path), HUDDLE_DATABASE_URL="")
    env["HUDDLE_ARGON2_MEMORY_KIB"] = str(ARGON2_MEMORY_KIB)
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True
    )


def users(tmp_path):
    db = sqlite3.connect(tmp_path / "huddle.db")
    rows = db.execute("SELECT username, email, is_admin FROM users ORDER BY id").fetchall()
    db.close()
    return rows


def test_create_user_and_grant_admin_from_the_command_line(tmp_path):
    assert cli(tmp_path, "migrate").returncode == 0
    password = "long enough pw\n"
    made = cli(tmp_path, "create-user", "root", "root@example.com", "--admin", "--password-stdin", stdin=password)
    assert made.returncode == 0, made.stderr
    assert cli(tmp_path, "create-user", "erin", "erin@example.com", "--password-stdin", stdin=password).returncode == 0
    assert users(tmp_path) == [("root", "root@example.com", 1), ("erin", "erin@example.com", 0)]
    # The command line never builds the app: it reads HUDDLE_ARGON2_MEMORY_KIB itself.
    db = sqlite3.connect(tmp_path / "huddle.db")
    stored = db.execute("SELECT password_hash FROM users WHERE username = 'erin'").fetchone()[0]
    db.close()
    assert stored.startswith(f"$argon2id$v=19$m={ARGON2_MEMORY_KIB},t=2,p=1$")
    assert cli(tmp_path, "grant-admin", "ERIN").returncode == 0
    assert users(tmp_path)[1][2] == 1
    assert cli(tmp_path, "grant-admin", "erin", "--revoke").returncode == 0
    assert users(tmp_path)[1][2] == 0
    # Audited as the command line (SYSTEM: no actor), each entry in the words the audit page shows.
    db = sqlite3.connect(tmp_path / "huddle.db")
    rows = db.execute("SELECT actor_name, action, target_name, params, detail FROM audit_events ORDER BY id").fetchall()
    db.close()
    entries = [SimpleNamespace(actor_name=a, action=b, target_name=c, params=json.loads(p), detail=d)
               for a, b, c, p, d in rows]
    assert [(entry.actor_name, entry.action) for entry in entries] == [
        ("", "user.created"), ("", "user.created"), ("", "admin.granted"), ("", "admin.removed")
    ]
    assert [sentence(entry) for entry in entries] == [
        "The command line created an administrator account for root.", "The command line created an account for erin.",
        "The command line made erin an administrator.", "The command line removed erin's administrator rights.",
    ]


NO_ACTOR = {
    "create_user": lambda alice: admin_service.create_user(None, {**NEW, "is_admin": True}),
    "update_user": lambda alice: admin_service.update_user(
        None, alice, {"username": "alice", "email": alice.email, "is_admin": True}),
    "set_admin": lambda alice: admin_service.set_admin(None, alice, True),
    "delete_user": lambda alice: admin_service.delete_user(None, alice),
    "delete_account": lambda alice: accounts.delete_account(None, alice),
    "set_password": lambda alice: accounts.set_password(
        alice, NEW["password"], actor=None, reason="password.set_by_admin"),
    "record": lambda alice: AuditEvent.record(None, "admin.granted", alice),
}


@pytest.mark.parametrize("call", NO_ACTOR)
async def test_a_missing_actor_is_refused_never_taken_for_the_command_line(app, admin, alice, call):
    """None is not the command line: a caller that forgot who acts gets a TypeError, and nothing
    changes (the command line passes SYSTEM on purpose)."""
    async with app.app_context():
        before = await User.filter(id=alice.id).values_list("username", "email", "is_admin", "password_hash")
        with pytest.raises(TypeError, match="actor must be a User or SYSTEM"):
            await NO_ACTOR[call](alice)
        with pytest.raises(TypeError):
            admin_service.check_delete(None, alice)
        assert await User.filter(id=alice.id).values_list("username", "email", "is_admin", "password_hash") == before
        assert not await User.exists(username="gina")
        assert not await AuditEvent.exists()


def test_create_user_applies_the_same_rules_as_registration(tmp_path):
    cli(tmp_path, "migrate")
    bad = cli(tmp_path, "create-user", "x", "not-an-email", "--password-stdin", stdin="short\n")
    assert bad.returncode == 1
    assert "username" in bad.stderr and "email" in bad.stderr and "password" in bad.stderr
    assert users(tmp_path) == []
    assert cli(tmp_path, "grant-admin", "nobody").returncode == 1


def test_the_secret_key_is_generated_once_and_kept(tmp_path):
    settings = Settings(data_dir=tmp_path)
    first = settings.load_secret_key()
    assert len(first) >= 43 and settings.load_secret_key() == first
    assert Settings(data_dir=tmp_path).load_secret_key() == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert Settings(data_dir=tmp_path / "other").load_secret_key() != first


def test_an_explicit_secret_key_wins(tmp_path):
    assert Settings(data_dir=tmp_path, secret_key="from-env").load_secret_key() == "from-env"
    assert not (tmp_path / "secret_key").exists()


def test_importing_and_building_the_app_touches_no_disk(tmp_path):
    code = (
        "from app import create_app; from app.config import Settings; from pathlib import Path;"
        f"create_app(Settings(data_dir=Path({str(tmp_path / 'fresh')!r})))"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    assert not (tmp_path / "fresh").exists()
