"""Command line: `python -m app migrate | create-user | grant-admin | move-files` (see README)."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise import Tortoise

from app.config import ROOT, Settings, tortoise_config
from app.domain import DomainError, Invalid
from app.runtime import Runtime


async def ensure_database(url: str) -> bool:
    """PostgreSQL: create the database named in url if it does not exist yet (True if made)."""
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in {"postgres", "postgresql", "asyncpg"} or not name:
        return False
    try:
        conn = await asyncpg.connect(urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, "")))
    except (OSError, asyncpg.PostgresError):
        return False  # no maintenance database to ask: migrate will say what is wrong
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        await conn.execute(f'CREATE DATABASE "{name.replace(chr(34), "")}"')
        return True
    finally:
        await conn.close()


async def migrate(settings: Settings) -> list[str]:
    """Apply every migration in migrations/ that this database has not had yet (creating a
    PostgreSQL database first if it does not exist)."""
    from aerich import Command

    if await ensure_database(settings.resolved_database_url()):
        print("Created the database.")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    command = Command(
        tortoise_config(settings.resolved_database_url()), app="models", location=str(ROOT / "migrations")
    )
    async with command:
        await command.init()
        return await command.upgrade(run_in_transaction=True)


@asynccontextmanager
async def site(settings: Settings) -> AsyncIterator[None]:
    """The database and the app's context: the services run as they do in a request. Their live
    events go to this process's broker: in memory nobody hears them; with Redis they reach every
    worker's pages (an account added here appears in open lists of people)."""
    from app import create_app

    app = create_app(settings)
    await Tortoise.init(config=tortoise_config(settings.resolved_database_url()))
    try:
        async with app.app_context():
            yield
    finally:
        await Runtime.of(app).broker.stop()
        await Tortoise.close_connections()


async def create_user(settings: Settings, username: str, email: str, password: str, admin: bool) -> str | None:
    """The same rules as the registration form; returns what is wrong, or None."""
    from app.admin import service
    from app.models.actor import SYSTEM

    values = {
        "username": username, "email": email, "password": password, "confirm_password": password, "is_admin": admin
    }
    async with site(settings):
        try:
            await service.create_user(SYSTEM, values)
        except Invalid as refused:
            return "; ".join(f"{name}: {message}" for name, message in refused.errors.items())
    return None


async def grant_admin(settings: Settings, username: str, admin: bool) -> str | None:
    """Grant (or take away) administrator rights; returns what is wrong, or None. The last
    administrator keeps them."""
    from app.accounts.service import get_user
    from app.admin import service
    from app.models.actor import SYSTEM

    async with site(settings):
        try:
            await service.set_admin(SYSTEM, await get_user(username), admin)
        except Invalid as refused:
            return "; ".join(refused.errors.values())
        except DomainError as refused:
            return refused.message
    return None


async def move_files(settings: Settings, url: str) -> str | None:
    """Copy every stored file to the storage url names; returns what is wrong, or None."""
    from app.storage import open_storage
    from app.storage.move import move

    try:
        source, target = open_storage(settings), open_storage(settings, url)
    except ValueError as wrong:
        return str(wrong)
    if repr(source) == repr(target):
        return f"The files are already kept there ({url})."
    try:
        moved = await move(source, target, settings.data_dir / "tmp")
    finally:
        await source.close()
        await target.close()
    print(f"Copied {moved.copied} file{'' if moved.copied == 1 else 's'}; {moved.present} were there already.")
    if moved.damaged:
        return (f"{len(moved.damaged)} damaged (their bytes no longer match their keys), not copied: "
                + ", ".join(moved.damaged[:10]) + (", …" if len(moved.damaged) > 10 else ""))
    print(f"Now set HUDDLE_STORAGE_URL={url} on every host and restart Huddle (run this again just before, "
          "for files uploaded meanwhile). The old files can be removed once it serves from there.")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description="Manage a Huddle site.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply pending database migrations")
    create = commands.add_parser("create-user", help="create a user (asks for the password)")
    create.add_argument("username")
    create.add_argument("email")
    create.add_argument("--admin", action="store_true", help="make the user an administrator")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    grant = commands.add_parser("grant-admin", help="make an existing user an administrator")
    grant.add_argument("username")
    grant.add_argument("--revoke", action="store_true", help="take administrator rights away instead")
    move = commands.add_parser("move-files", help="copy every stored file to another storage (s3://… or a folder)")
    move.add_argument("url", help="where to: s3://bucket?endpoint=https://host&region=name, or a folder")
    args = parser.parse_args(argv)
    settings = Settings.from_env()

    if args.command == "migrate":
        applied = asyncio.run(migrate(settings))
        count = f"{len(applied)} migration{'' if len(applied) == 1 else 's'}"
        print(f"Applied {count}." if applied else "Database is up to date.")
        return 0
    if args.command == "create-user":
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Confirm password: "):
                print("The passwords do not match.", file=sys.stderr)
                return 1
        problem = asyncio.run(create_user(settings, args.username, args.email, password, args.admin))
        if problem:
            print(problem, file=sys.stderr)
            return 1
        print(f"Created {'administrator' if args.admin else 'user'} {args.username}.")
        return 0
    if args.command == "grant-admin":
        problem = asyncio.run(grant_admin(settings, args.username, not args.revoke))
        if problem:
            print(problem, file=sys.stderr)
            return 1
        print(f"{args.username} is {'no longer' if args.revoke else 'now'} an administrator.")
        return 0
    if args.command == "move-files":
        problem = asyncio.run(move_files(settings, args.url))
        if problem:
            print(problem, file=sys.stderr)
            return 1
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
