"""Command line: `python -m app migrate | create-user | grant-admin` (see README)."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from tortoise import Tortoise

from app.accounts import usernames
from app.config import ROOT, Settings, tortoise_config
from app.web.forms import check_new_account
from app.models import AuditEvent, User


async def migrate(settings: Settings) -> list[str]:
    """Apply every migration in migrations/ that this database has not had yet."""
    from aerich import Command

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    command = Command(
        tortoise_config(settings.resolved_database_url()), app="models", location=str(ROOT / "migrations")
    )
    async with command:
        await command.init()
        return await command.upgrade(run_in_transaction=True)


async def create_user(settings: Settings, username: str, email: str, password: str, admin: bool) -> str | None:
    await Tortoise.init(config=tortoise_config(settings.resolved_database_url()))
    try:
        form = await check_new_account(
            {"username": username, "email": email, "password": password, "confirm_password": password}
        )
        if not form.ok:
            return "; ".join(f"{name}: {message}" for name, message in form.errors.items())
        user = await User.create_account(form.values["username"], form.values["email"], password, is_admin=admin)
        await AuditEvent.record(None, "user.created", user, "from the command line" + (" as administrator" if admin else ""))
        return None
    finally:
        await Tortoise.close_connections()


async def grant_admin(settings: Settings, username: str, admin: bool) -> bool:
    await Tortoise.init(config=tortoise_config(settings.resolved_database_url()))
    try:
        user = await User.get_or_none(username_key=usernames.key(username))
        if user is None:
            return False
        user.is_admin = admin
        await user.save(update_fields=["is_admin"])
        await AuditEvent.record(None, "admin.granted" if admin else "admin.removed", user, "from the command line")
        return True
    finally:
        await Tortoise.close_connections()


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
    args = parser.parse_args(argv)
    settings = Settings.from_env()

    if args.command == "migrate":
        applied = asyncio.run(migrate(settings))
        print(f"Applied {len(applied)} migration(s)." if applied else "Database is up to date.")
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
        if not asyncio.run(grant_admin(settings, args.username, not args.revoke)):
            print(f"There is no user called {args.username}.", file=sys.stderr)
            return 1
        print(f"{args.username} is {'no longer' if args.revoke else 'now'} an administrator.")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
