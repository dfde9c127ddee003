"""Who is an administrator holds under concurrency, on SQLite and on PostgreSQL: two admins
demoting or deleting each other at the same moment never leave the site without one (exactly one
of the two is refused), and two first registrations at once make one administrator, not two.

Each race runs the real services side by side with asyncio.gather, many rounds. On PostgreSQL it
runs in a child process (`python -m tests.test_races URL`): Tortoise keeps SQL it built for
SQLite, so one process cannot use both dialects."""
from __future__ import annotations

import asyncio

from app.accounts import service as accounts
from app.admin import service as admin
from app.domain import DomainError
from app.models import User
from app.models.actor import SYSTEM
from tests.helpers import PASSWORD
from tests.helpers.postgres import child_main, in_child, pg_site

ROUNDS = 25


def demote(actor: User, target: User):
    values = {"username": target.username, "email": target.email, "password": "", "is_admin": False}
    return admin.update_user(actor, target, values)


SCENARIOS = {
    "demote each other": lambda a, b: (demote(a, b), demote(b, a)),
    "delete each other": lambda a, b: (admin.delete_user(a, b), admin.delete_user(b, a)),
    "demote and delete": lambda a, b: (demote(a, b), admin.delete_user(b, a)),
    "delete accounts (profile)": lambda a, b: (accounts.delete_account(a, b), accounts.delete_account(b, a)),
    "revoke on the command line": lambda a, b: (admin.set_admin(SYSTEM, a, False), admin.set_admin(SYSTEM, b, False)),
}


async def two_admins(digest: str, round_: int) -> tuple[User, User]:
    """A site whose only administrators are a and b."""
    await User.all().delete()
    a, b = [
        await User.create_account(f"{name}{round_}", f"{name}{round_}@example.com", password_hash=digest, is_admin=True)
        for name in ("alpha", "bravo")
    ]
    return a, b


async def race_everything(rounds: int = ROUNDS) -> dict:
    """Every race, `rounds` times each: what went wrong (nothing, we hope), and how often the two
    operations truly overlapped (both got past their own checks before either committed)."""
    from app.models import hashing

    digest = await hashing.hash_password(PASSWORD)
    problems: list[str] = []
    for scenario, operations in SCENARIOS.items():
        for round_ in range(rounds):
            a, b = await two_admins(digest, round_)
            outcomes = await asyncio.gather(*operations(a, b), return_exceptions=True)
            refused = [o for o in outcomes if isinstance(o, DomainError)]
            unexpected = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, DomainError)]
            admins = await User.filter(is_admin=True).count()
            if admins < 1 or len(refused) != 1 or unexpected:
                problems.append(f"{scenario}, round {round_}: {admins} admin(s) left, outcomes {outcomes!r}")
    for round_ in range(rounds):
        await User.all().delete()
        people = await asyncio.gather(
            *(
                accounts.register(f"{name}{round_}", f"{name}{round_}@example.com", PASSWORD, PASSWORD)
                for name in ("xray", "yankee")
            ),
            return_exceptions=True,
        )
        admins = await User.filter(is_admin=True).count()
        if admins != 1 or not all(isinstance(person, User) for person in people):
            problems.append(f"first registrations, round {round_}: {admins} admin(s), outcomes {people!r}")
    return {"problems": problems}


async def test_the_last_admin_survives_concurrent_demotions_and_deletions_on_sqlite(app):
    async with app.app_context():
        result = await race_everything()
    assert result["problems"] == []


def test_the_last_admin_survives_concurrent_demotions_and_deletions_on_postgresql(pg_database, tmp_path):
    assert in_child("tests.test_races", pg_database, str(tmp_path))["problems"] == []


async def _on_postgresql(url: str, data_dir: str) -> dict:
    async with pg_site(url, data_dir):
        return await race_everything()


if __name__ == "__main__":
    child_main(_on_postgresql)
