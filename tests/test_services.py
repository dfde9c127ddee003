"""The use cases called directly, as the JSON API and the command line will call them: explicit
actor and values in, domain errors out, live events only after the transaction commits."""
from __future__ import annotations

import asyncio

import pytest
from tortoise.backends.base.client import TransactionalDBClient

from app.accounts import service as accounts
from app.admin import service as admin_service
from app.domain import Invalid, NotAllowed, NotFound
from app.models import AuditEvent, Feedback, PasswordResetToken, User, UserSession
from app.models.actor import SYSTEM
from app.models.paging import page
from tests.helpers import PASSWORD
from tests.helpers.accounts import make_user
from tests.helpers.html import text_of

NEW = "a brand new passphrase"


@pytest.fixture
async def ctx(app):
    """The app's context, as a request or the command line has it (events render templates)."""
    async with app.app_context():
        yield app


@pytest.fixture
def published(monkeypatch):
    """What the services publish, each checked to happen outside any transaction."""
    sent: list[tuple[str, str, str]] = []

    def spy(kind: str):
        async def publish(topic: str, what: str) -> None:
            assert not isinstance(User._meta.db, TransactionalDBClient), f"{kind} published before commit"
            sent.append((kind, topic, what))

        return publish

    monkeypatch.setattr(accounts, "force_logout", spy("logout"))
    monkeypatch.setattr(admin_service, "reload_scope", spy("reload"))
    return sent


async def sessions_of(user: User, n: int) -> list[UserSession]:
    return [(await UserSession.start(user))[0] for _ in range(n)]


async def actions(target: User) -> list[tuple[str, str, dict]]:
    rows = await AuditEvent.filter(target_name=target.username).order_by("id")
    return [(row.actor_name, row.action, row.params) for row in rows]


# --- registering and logging in -------------------------------------------------------------

async def test_register_makes_the_first_account_the_administrator_and_audits_it(ctx):
    first = await accounts.register("Erin", "ERIN@example.com ", PASSWORD, PASSWORD)
    second = await accounts.register("frank", "frank@example.com", PASSWORD, PASSWORD)
    assert (first.is_admin, first.email, second.is_admin) == (True, "erin@example.com", False)
    assert await actions(first) == [("Erin", "user.registered", {"first_admin": True})]
    assert await accounts.authenticate("ERIN", PASSWORD) == first
    assert await accounts.authenticate("erin", "wrong password") is None
    assert await accounts.authenticate("nobody", PASSWORD) is None


async def test_register_refuses_bad_values_field_by_field(ctx, admin):
    with pytest.raises(Invalid) as refused:
        await accounts.register("x", "not-an-email", "short", "other")
    assert set(refused.value.errors) == {"username", "email", "password", "confirm_password"}
    with pytest.raises(Invalid) as taken:
        await accounts.register("ADMIN", "new@example.com", PASSWORD, PASSWORD)
    assert taken.value.errors == {"username": "That username is taken."}


async def test_two_registrations_of_one_name_at_once_give_one_account_and_one_clear_refusal(ctx, admin):
    outcomes = await asyncio.gather(
        *(accounts.register("zed", f"zed{n}@example.com", PASSWORD, PASSWORD) for n in range(2)), return_exceptions=True
    )
    refused = [o for o in outcomes if isinstance(o, Invalid)]
    assert len(refused) == 1 and refused[0].errors == {"username": accounts.TAKEN}
    assert await User.filter(username_key="zed").count() == 1


async def test_get_user_finds_any_spelling_or_raises_not_found(ctx, alice):
    assert await accounts.get_user("ALICE") == alice
    with pytest.raises(NotFound, match="There is no user called nobody."):
        await accounts.get_user("nobody")


# --- passwords ------------------------------------------------------------------------------

async def test_set_password_is_one_write_for_every_path_and_logs_out_after_commit(ctx, alice, published):
    keep, *others = await sessions_of(alice, 3)
    await PasswordResetToken.issue(alice, 3600)
    ended = await accounts.set_password(alice, NEW, actor=alice, reason="password.reset", keep_session=keep)
    assert ended == 2
    assert await UserSession.filter(user_id=alice.id).values_list("id", flat=True) == [keep.id]
    assert not await PasswordResetToken.filter(user_id=alice.id).exists()
    assert await accounts.authenticate("alice", NEW) is not None
    assert await actions(alice) == [("alice", "password.reset", {})]
    assert sorted(published) == sorted(("logout", f"session:{s.id}", "password") for s in others)


async def test_set_password_checks_the_policy_the_confirmation_and_who_asks(ctx, alice, bob, admin):
    with pytest.raises(Invalid) as short:
        await accounts.set_password(alice, "short", actor=alice, reason="password.changed")
    assert set(short.value.errors) == {"password"}
    with pytest.raises(Invalid) as mismatch:
        await accounts.set_password(alice, NEW, confirm="other", actor=alice, reason="password.changed")
    assert set(mismatch.value.errors) == {"confirm_password"}
    with pytest.raises(NotAllowed):
        await accounts.set_password(alice, NEW, actor=bob, reason="password.changed")
    assert await accounts.set_password(alice, NEW, actor=admin, reason="password.set_by_admin") == 0


async def test_change_password_needs_the_current_one(ctx, alice):
    this, _ = await sessions_of(alice, 2)
    with pytest.raises(Invalid) as wrong:
        await accounts.change_password(alice, "not it", NEW, NEW, keep_session=this)
    assert set(wrong.value.errors) == {"current_password"}
    assert await accounts.change_password(alice, PASSWORD, NEW, NEW, keep_session=this) == 1
    assert await actions(alice) == [("alice", "password.changed", {})]


async def test_ending_sessions_publishes_each_after_the_commit(ctx, alice, published):
    rows = await sessions_of(alice, 2)
    assert await accounts.end_sessions(alice, "revoked") == 2
    assert sorted(published) == sorted(("logout", f"session:{row.id}", "revoked") for row in rows)
    assert await accounts.revoke_other_sessions(alice, None) == 0
    assert await actions(alice) == []  # nothing ended, nothing audited


# --- deleting accounts ----------------------------------------------------------------------

async def test_who_may_delete_an_account_is_one_rule(ctx, admin, alice, bob):
    other_admin = await make_user("root", admin=True)
    assert accounts.may_delete_account(alice, alice)  # the owner
    assert not accounts.may_delete_account(alice, bob)  # not someone else's
    assert not accounts.may_delete_account(admin, admin)  # an admin: not their own
    assert accounts.may_delete_account(admin, alice) and accounts.may_delete_account(admin, other_admin)
    with pytest.raises(NotAllowed, match="Only this user and administrators"):
        await accounts.delete_account(alice, bob)
    with pytest.raises(NotAllowed, match="another administrator can"):
        await accounts.delete_account(admin, admin)
    with pytest.raises(NotAllowed, match="another administrator can"):  # one rule, one message
        await admin_service.delete_user(admin, admin)
    with pytest.raises(NotAllowed, match="Only administrators"):
        await admin_service.delete_user(alice, bob)


async def test_deleting_an_account_takes_everything_and_logs_its_pages_out_after_commit(ctx, admin, alice, published):
    await sessions_of(alice, 2)
    await Feedback.create(title="Hi", content="Hello", author=alice)
    await accounts.delete_account(alice, alice)
    assert not await User.exists(id=alice.id) and not await Feedback.exists()
    assert await actions(alice) == [("alice", "user.deleted", {"sessions": 2, "feedback": 1})]
    assert published == [("logout", f"user:{alice.id}", "deleted")]
    with pytest.raises(NotFound):
        await admin_service.delete_user(admin, alice)


async def test_the_last_administrator_cannot_be_deleted_even_by_a_stale_admin(ctx, admin):
    former = await make_user("former", admin=True)
    await User.filter(id=former.id).update(is_admin=False)  # `former` still thinks they are one
    with pytest.raises(NotAllowed, match="The last administrator cannot be deleted."):
        await admin_service.delete_user(former, admin)
    assert await User.filter(is_admin=True).count() == 1


# --- the admin area -------------------------------------------------------------------------

def form(user: User, **changes) -> dict:
    return {"username": user.username, "email": user.email, "password": "", "is_admin": user.is_admin, **changes}


async def test_create_user_audits_like_the_admin_area_and_the_command_line(ctx, admin, alice):
    values = {"username": "gina", "email": "gina@example.com", "password": PASSWORD, "confirm_password": PASSWORD}
    gina = await admin_service.create_user(admin, {**values, "is_admin": True})
    assert gina.is_admin and await actions(gina) == [("admin", "user.created", {}), ("admin", "admin.granted", {})]
    hal = await admin_service.create_user(SYSTEM, {**values, "username": "hal", "email": "hal@example.com"})
    assert await actions(hal) == [("", "user.created", {"admin": False})]
    with pytest.raises(NotAllowed):
        await admin_service.create_user(alice, {**values, "username": "ivy", "email": "ivy@example.com"})
    with pytest.raises(Invalid) as taken:
        await admin_service.create_user(admin, values)
    assert set(taken.value.errors) == {"username", "email"}


async def test_update_user_saves_audits_the_diff_and_keeps_the_last_admin(ctx, admin, alice, published):
    alice = await admin_service.update_user(admin, alice, form(alice, username="Alicia", is_admin=True))
    assert (alice.username, alice.is_admin) == ("Alicia", True)
    assert await actions(alice) == [
        ("admin", "user.edited", {"changes": [["username", "alice", "Alicia"]]}), ("admin", "admin.granted", {})
    ]
    await admin_service.update_user(admin, alice, form(alice, is_admin=False))
    assert published == [("reload", f"user:{alice.id}", "admin")]
    with pytest.raises(Invalid) as last:
        await admin_service.update_user(admin, admin, form(admin, is_admin=False, email="bad"))
    assert set(last.value.errors) == {"email", "is_admin"}  # shown together, as the form always did
    with pytest.raises(Invalid) as taken:
        await admin_service.update_user(admin, alice, form(alice, username="ADMIN"))
    assert taken.value.errors == {"username": "That username is taken."}
    assert (await User.get(id=alice.id)).username == "Alicia"


async def test_update_user_with_a_password_ends_the_targets_sessions_but_the_admins_own(ctx, admin, alice, published):
    mine, other = await sessions_of(admin, 2)
    await admin_service.update_user(
        admin, admin, form(admin, password=NEW, confirm_password=NEW), keep_session=mine
    )
    assert await UserSession.filter(user_id=admin.id).values_list("id", flat=True) == [mine.id]
    assert published == [("logout", f"session:{other.id}", "password")]
    assert [a for _, a, _ in await actions(admin)] == ["password.set_by_admin"]


async def test_set_admin_grants_and_revokes_but_never_the_last(ctx, admin, alice, published):
    await admin_service.set_admin(SYSTEM, alice, True)
    await admin_service.set_admin(SYSTEM, alice, False)
    assert await actions(alice) == [("", "admin.granted", {}), ("", "admin.removed", {})]
    assert published == [("reload", f"user:{alice.id}", "admin")]
    with pytest.raises(Invalid, match="admin is the last administrator and must stay one."):
        await admin_service.set_admin(SYSTEM, admin, False)
    assert (await User.get(id=admin.id)).is_admin


# --- paging ---------------------------------------------------------------------------------

async def test_a_keyset_page_shows_size_rows_newest_first_and_where_the_next_starts(ctx, admin):
    for n in range(5):
        await AuditEvent.record(admin, "user.edited", admin, changes=[["email", str(n), str(n + 1)]])
    ids = await AuditEvent.all().order_by("-id").values_list("id", flat=True)
    first, after = await page(AuditEvent.all(), before=None, size=2)
    assert [row.id for row in first] == ids[:2] and after == ids[1]
    rest, end = await page(AuditEvent.all(), before=ids[3], size=2)
    assert [row.id for row in rest] == ids[4:] and end is None


# --- what the HTML views make of a refusal --------------------------------------------------

async def test_views_show_a_refused_use_case_as_the_sites_error_page(client, admin):
    await client.login("admin")
    own = "Administrators cannot delete their own account; another administrator can."  # wherever it is asked
    for path, status, message in ((f"/admin/users/{admin.id}/delete", 403, own), ("/users/admin/delete", 403, own)):
        response = await client.post(path)
        assert response.status_code == status and message in text_of(await response.get_data(as_text=True))
    response = await client.get("/users/nobody")
    assert response.status_code == 404 and "There is no user called nobody." in await response.get_data(as_text=True)
