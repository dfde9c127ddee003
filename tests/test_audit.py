"""An audit entry is written in the transaction of the change it records: both commit, or neither.

Each audited use case runs with `AuditEvent.record` made to fail, once just after its insert (the
entry is written, then the change fails) and once instead of it (the entry cannot be written):
either way no entry remains and the change did not happen."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from tortoise.models import Model

from app.accounts import service as accounts
from app.admin import invitations
from app.admin import service as admin_service
from app.chat import conversations
from app.chat import service as chat
from app.feedback import service as feedback
from app.links import service as links
from app.models import (
    AuditEvent,
    Conversation,
    Feedback,
    Invitation,
    Membership,
    Message,
    ReservedName,
    User,
    UserSession,
)
from app.models.actor import SYSTEM
from app.models.links import SiteSetting
from tests.helpers import PASSWORD

NEW = {"username": "gina", "email": "gina@example.com", "password": PASSWORD, "confirm_password": PASSWORD}


@dataclass
class Case:
    setup: Callable[[User, User], Awaitable[Any]]  # (admin, alice) → what act and state need
    act: Callable[[User, User, Any], Awaitable[Any]]
    state: Callable[[User, User, Any], Awaitable[Any]]  # what the change would alter


async def nothing(admin, alice):
    return None


async def previews_off(admin, alice):
    return await SiteSetting.create(key="link_previews", value="off")


async def previews_switch(admin, alice, _):
    return await SiteSetting.filter(key="link_previews").values_list("value", flat=True)


async def a_room(admin, alice):
    return await conversations.create_room(admin, "leads")


async def a_room_with_alice(admin, alice):
    room = await a_room(admin, alice)
    await Membership.create(user_id=alice.id, conversation_id=room.id)
    return room


async def an_invitation(admin, alice):
    return (await invitations.create(admin, "multi", "3"))[0]


async def alices_message(admin, alice):
    room = await a_room_with_alice(admin, alice)
    return await chat.post(alice, room, "hello")


async def alices_old_name(admin, alice):
    """alice was renamed: her old name is reserved (the rename reserves it in its own transaction)."""
    await admin_service.update_user(admin, alice, {"username": "alicia", "email": alice.email})
    return await ReservedName.get(name_key="alice")


async def alices_feedback(admin, alice):
    return await Feedback.create(title="Mine", content="x", author=alice)


async def two_sessions(admin, alice):
    return [(await UserSession.start(alice))[0] for _ in range(2)]


async def member(admin, alice, room):
    return await Membership.exists(user_id=alice.id, conversation_id=room.id)


async def room_and_message(admin, alice, message):
    return (await Conversation.filter(id=message.conversation_id).count(),
            await Membership.filter(conversation_id=message.conversation_id).count(),
            await Message.filter(id=message.id).count())


async def alice_row(admin, alice, _):
    """Her account, and the names kept from newcomers (a rename keeps the old one)."""
    return (await User.filter(id=alice.id).values_list("username", "display_name", "email", "is_admin",
                                                        "password_hash"),
            await ReservedName.all().values_list("name_key", flat=True))


CASES = {
    "room.member_added": Case(a_room, lambda admin, alice, room: conversations.add_member(admin, room, "alice"),
                              member),
    "room.member_removed": Case(a_room_with_alice,
                                lambda admin, alice, room: conversations.remove_member(admin, room, alice), member),
    "room.created": Case(nothing, lambda admin, alice, _: conversations.create_room(admin, "ops"),
                         lambda *_: Conversation.filter(name="ops").count()),
    "room.edited": Case(a_room_with_alice, lambda admin, alice, room: chat.change_room(
        admin, room, name="team", topic="plans", is_open=False, archived=True),
        lambda admin, alice, room: Conversation.filter(id=room.id).values_list(
            "name", "topic", "is_open", "archived_at", "header_seq")),
    "room.deleted": Case(alices_message, lambda admin, alice, message: chat.delete_room(
        admin, Conversation(id=message.conversation_id, name="leads", kind="room", created_by_id=admin.id)),
        room_and_message),
    "invitation.created": Case(nothing, lambda admin, alice, _: invitations.create(admin, "single", "2"),
                               lambda *_: Invitation.all().count()),
    "invitation.revoked": Case(an_invitation, lambda admin, alice, inv: invitations.revoke(admin, inv),
                               lambda admin, alice, inv: Invitation.filter(id=inv.id).values_list("revoked_at")),
    "name.freed": Case(alices_old_name, lambda admin, alice, kept: admin_service.free_name(admin, kept.id),
                       lambda *_: ReservedName.all().count()),
    "message.deleted": Case(alices_message, lambda admin, alice, message: chat.delete(admin, message),
                            lambda admin, alice, message: Message.filter(id=message.id).values_list("deleted_at")),
    "feedback.edited": Case(alices_feedback, lambda admin, alice, item: feedback.update(admin, item, "Tidied", "y"),
                            lambda admin, alice, item: Feedback.filter(id=item.id).values_list("title")),
    "feedback.deleted": Case(alices_feedback, lambda admin, alice, item: feedback.delete(admin, item),
                             lambda admin, alice, item: Feedback.filter(id=item.id).count()),
    "user.created": Case(nothing, lambda admin, alice, _: admin_service.create_user(SYSTEM, NEW),
                         lambda *_: User.filter(username="gina").count()),
    "user.registered": Case(nothing, lambda *_: accounts.register("gina", NEW["email"], PASSWORD, PASSWORD),
                            lambda *_: User.filter(username="gina").count()),
    "user.edited": Case(nothing, lambda admin, alice, _: admin_service.update_user(
        admin, alice, {"username": "alicia", "email": alice.email, "is_admin": True}), alice_row),
    "admin.granted": Case(nothing, lambda admin, alice, _: admin_service.set_admin(SYSTEM, alice, True), alice_row),
    "password.set_by_admin": Case(nothing, lambda admin, alice, _: accounts.set_password(
        alice, "a brand new passphrase", actor=admin, reason="password.set_by_admin"), alice_row),
    "user.deleted": Case(alices_feedback, lambda admin, alice, _: admin_service.delete_user(admin, alice),
                         lambda admin, alice, _: Feedback.filter(author_id=alice.id).count()),
    "link_previews.off": Case(nothing, lambda admin, alice, _: links.set_enabled(admin, False), previews_switch),
    "link_previews.on": Case(previews_off, lambda admin, alice, _: links.set_enabled(admin, True), previews_switch),
    "sessions.revoked": Case(two_sessions, lambda admin, alice, sessions: accounts.revoke_other_sessions(
        alice, sessions[0]), lambda admin, alice, _: UserSession.filter(user_id=alice.id).count()),
}


class Boom(Exception):
    pass


@pytest.mark.parametrize("when", ["after the entry is written", "instead of the entry"])
@pytest.mark.parametrize("action", CASES)
async def test_an_entry_and_its_change_commit_or_roll_back_together(app, admin, alice, monkeypatch, action, when):
    case = CASES[action]
    async with app.app_context():
        given = await case.setup(admin, alice)
        before, entries = await case.state(admin, alice, given), await AuditEvent.all().count()
        record = AuditEvent.record

        async def failing(actor, action_, target=None, **params):
            if when == "after the entry is written":
                await record(actor, action_, target, **params)
                assert await AuditEvent.all().count() == entries + 1  # it is there, for now
            raise Boom

        monkeypatch.setattr(AuditEvent, "record", failing)
        with pytest.raises(Boom):
            await case.act(admin, alice, given)
        monkeypatch.undo()
        assert await AuditEvent.all().count() == entries
        assert await case.state(admin, alice, given) == before
        if isinstance(given, Model):
            await given.refresh_from_db()  # as the next request would load it
        await case.act(admin, alice, given)  # and without the failure, both happen
        assert await AuditEvent.filter(action=action).exists()
        assert await case.state(admin, alice, given) != before


def test_every_audited_action_is_tried_here():
    from app.admin.audit_log import ACTIONS

    untried = set(ACTIONS) - set(CASES)
    # Recorded by the same one-transaction functions as a case above (the other branch of it).
    assert untried <= {"admin.removed", "password.changed", "password.reset"}, untried
