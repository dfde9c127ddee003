"""The audit log: who did what to whom, each entry read as one English sentence."""
from __future__ import annotations

import re
from collections.abc import Callable

from tortoise import fields
from tortoise.models import Model

from app.models.user import User


class AuditEvent(Model):
    """Who did what to whom: names are copied so entries outlive the accounts they mention."""

    id = fields.IntField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    actor_name = fields.CharField(max_length=30, default="")
    action = fields.CharField(max_length=40)
    target: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    target_name = fields.CharField(max_length=30, default="")
    detail = fields.CharField(max_length=500, default="")

    class Meta:
        table = "audit_events"
        ordering = ["-id"]

    @classmethod
    async def record(cls, actor: User | None, action: str, target: User | None, detail: str = "") -> AuditEvent:
        return await cls.create(
            actor=actor,
            actor_name=actor.username if actor else "",
            action=action,
            target=target,
            target_name=target.username if target else "",
            detail=detail[:500],
        )

    @property
    def sentence(self) -> str:
        """The entry as one sentence: "maya deleted theo's account: 3 sessions ended.", "The command
        line made erin an administrator.", "theo changed their own password." Built from the copied
        names, so it reads the same after the accounts are deleted; any action, even one this
        module does not know, reads without its dotted key."""
        return _Entry(self).sentence()


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """A count and its noun in agreement: "1 session", "3 sessions", "0 feedback items"."""
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


CLI = "from the command line"  # what callers write in `detail` when actor is None (app/admin/service.py)
_LEGACY_PLURAL = re.compile(r"\b(\d+) ((?:\w+ )*?\w+)\(s\)")  # "2 session(s)", written before plurals agreed
_INVITATION = re.compile(r"^(for [^,]+), (\d+) days?(.*)$", re.S)
_ROOM = re.compile(r"^(#.+) \((open|closed)\)$", re.S)


class _Entry:
    """One AuditEvent put into words: the subject (who), the target (whom) and the detail."""

    def __init__(self, event: AuditEvent) -> None:
        self.action = event.action or ""
        self.actor = event.actor_name
        self.target = event.target_name
        self.self_action = bool(self.actor) and self.actor == self.target
        detail = _LEGACY_PLURAL.sub(lambda m: plural(int(m[1]), m[2]), (event.detail or "").strip())
        if not self.actor and detail.startswith(CLI):  # the subject says so already
            detail = detail[len(CLI):].strip()
        self.detail = detail.rstrip(".").strip()

    # --- words --------------------------------------------------------------------------------

    @property
    def subject(self) -> str:
        return self.actor or "The command line"

    def whom(self) -> str:
        """The target as an object: "theo", or "themselves" when the actor acts on their own account."""
        return "themselves" if self.self_action else self.target or "someone"

    def whose(self, thing: str) -> str:
        """ "theo's account", or "their own account"."""
        return f"their own {thing}" if self.self_action else f"{self.target or 'someone'}'s {thing}"

    def then(self) -> str:
        """The detail, if any, after a colon: ": email: a@x → b@x"."""
        return f": {self.detail}" if self.detail else ""

    def sentence(self) -> str:
        words = self.PHRASES.get(self.action, _Entry.unknown)(self)
        # It starts with the actor's username as spelled, else with "The command line".
        return f"{self.subject} {words}".rstrip(". ") + "."

    # --- one phrase per action: what follows the subject ------------------------------------------

    def user_created(self) -> str:
        admin = self.detail == "as administrator"
        rest = "" if admin else self.then()
        return f"created an {'administrator ' if admin else ''}account for {self.whom()}{rest}"

    def user_registered(self) -> str:
        if not self.self_action:
            return f"registered an account for {self.whom()}{self.then()}"
        if self.detail == "admin (first account)":
            return "created their account and, as the first one, became an administrator"
        if self.detail.startswith("invited by "):
            return f"created their account, {self.detail}"
        return f"created their account{self.then()}"

    def user_edited(self) -> str:
        return f"edited {self.whose('account') if self.self_action else self.whom()}{self.then()}"

    def admin_granted(self) -> str:
        return f"made {self.whom()} an administrator{self.then()}"

    def admin_removed(self) -> str:
        return f"removed {self.whose('administrator rights')}{self.then()}"

    def password_set_by_admin(self) -> str:
        return f"set a new password for {self.whose('account') if self.self_action else self.whom()}{self.then()}"

    def user_deleted(self) -> str:
        return f"deleted {self.whose('account')}{self.then()}"

    def sessions_revoked(self) -> str:
        if self.self_action:
            if self.detail.startswith("one session"):  # "one session (Firefox on Linux)"
                return f"ended one of their sessions{self.detail[len('one session'):]}"
            return f"ended {self.detail}" if self.detail else "ended their own sessions"
        return f"ended {self.whose('sessions')}{self.then()}"

    def room_created(self) -> str:
        room = _ROOM.match(self.detail)
        if room:
            return f"created the {room[2]} room {room[1]}"
        return f"created a room{self.then()}"

    def room_member_added(self) -> str:
        where = f"to {self.detail}" if self.detail.startswith("#") else f"to a room{self.then()}"
        return f"added {self.whom()} {where}"

    def room_member_removed(self) -> str:
        where = f"from {self.detail}" if self.detail.startswith("#") else f"from a room{self.then()}"
        return f"removed {self.whom()} {where}"

    def message_deleted(self) -> str:
        if self.actor and self.detail == f"a message by {self.actor}":
            return "deleted one of their own messages"
        return f"deleted {self.detail}" if self.detail.startswith("a message") else f"deleted a message{self.then()}"

    def password_changed(self) -> str:
        return f"changed {self.whose('password')}{self.then()}"

    def password_reset(self) -> str:
        how = " through an emailed link" if self.detail == "with an emailed link" else self.then()
        return f"reset {'their password' if self.self_action else self.whose('password')}{how}"

    def feedback_edited(self) -> str:
        whose = "their own feedback" if self.self_action else f"feedback by {self.whom()}"
        return f"edited {whose}{self.then()}"

    def feedback_deleted(self) -> str:
        whose = "their own feedback" if self.self_action else f"feedback by {self.whom()}"
        return f"deleted {whose}{self.then()}"

    def invitation_created(self) -> str:
        made = _INVITATION.match(self.detail)
        if made:
            return f"created an invitation link {made[1]}, valid {plural(int(made[2]), 'day')}{made[3]}"
        return f"created an invitation link{self.then()}"

    def invitation_revoked(self) -> str:
        if self.actor and self.detail == f"made by {self.actor}":
            return "revoked an invitation link they had made"
        if self.detail.startswith("made by "):
            return f"revoked an invitation link {self.detail}"
        return f"revoked an invitation link{self.then()}"

    def unknown(self) -> str:
        """An action this module does not know, in words from its key: "room.archived" reads
        "archived a room"; a key not ending in a past tense reads as a quoted phrase."""
        parts = [part for part in re.split(r"[^0-9A-Za-z]+", self.action.lower()) if part]
        if len(parts) >= 2 and parts[-1].endswith("ed"):
            thing = " ".join(parts[:-1])
            words = f"{parts[-1]} {'an' if thing[0] in 'aeio' else 'a'} {thing}"  # "a user", "an invitation"
        else:
            words = f"did “{' '.join(parts) or 'something'}”"
        about = f", concerning {self.whom()}" if self.target else ""
        return f"{words}{about}{self.then()}"

    PHRASES: dict[str, Callable[[_Entry], str]] = {
        "user.created": user_created,
        "user.registered": user_registered,
        "user.edited": user_edited,
        "admin.granted": admin_granted,
        "admin.removed": admin_removed,
        "password.set_by_admin": password_set_by_admin,
        "user.deleted": user_deleted,
        "sessions.revoked": sessions_revoked,
        "room.created": room_created,
        "room.member_added": room_member_added,
        "room.member_removed": room_member_removed,
        "message.deleted": message_deleted,
        "password.changed": password_changed,
        "password.reset": password_reset,
        "feedback.edited": feedback_edited,
        "feedback.deleted": feedback_deleted,
        "invitation.created": invitation_created,
        "invitation.revoked": invitation_revoked,
    }


# Every action the app records, each with its own phrase (tests/test_admin.py checks the code
# records no other).
ACTIONS = tuple(_Entry.PHRASES)
