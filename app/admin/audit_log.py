"""The audit log in words: each entry one English sentence, made when it is shown.

Entries store an action and its parameters (app/models/audit.py); this module is the one place
that phrases them: "maya deleted theo's account: 3 sessions ended, 0 feedback items deleted.",
"The command line made erin an administrator.", "theo changed their own password." Built from
the copied names, so an entry reads the same after the accounts it names are deleted. Any
action, even one this module does not know, reads without its dotted key; an old entry's free
text (kept where migration 6 could not read it) follows its sentence as it was written."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from app.models import AuditEvent
from app.words import plural


def sentence(event: AuditEvent) -> str:
    return _Entry(event).sentence()


class _Entry:
    """One AuditEvent put into words: the subject (who), the target (whom), the parameters."""

    def __init__(self, event: AuditEvent) -> None:
        self.action = event.action or ""
        self.actor = event.actor_name
        self.target = event.target_name
        self.params: dict[str, Any] = event.params if isinstance(event.params, dict) else {}
        self.self_action = bool(self.actor) and self.actor == self.target
        self.note = (event.detail or "").strip().rstrip(".").strip()  # old free text, if any

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

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

    def sentence(self) -> str:
        words = self.PHRASES.get(self.action, _Entry.unknown)(self)
        if self.note:
            words += f": {self.note}"
        # It starts with the actor's username as spelled, else with "The command line".
        return f"{self.subject} {words}".rstrip(". ") + "."

    # --- one phrase per action: what follows the subject ------------------------------------------

    def user_created(self) -> str:
        return f"created an {'administrator ' if self.get('admin') else ''}account for {self.whom()}"

    def user_registered(self) -> str:
        if not self.self_action:
            return f"registered an account for {self.whom()}"
        if self.get("first_admin"):
            return "created their account and, as the first one, became an administrator"
        if self.get("invited_by"):
            return f"created their account, invited by {self.get('invited_by')}"
        return "created their account"

    def user_edited(self) -> str:
        changes = "; ".join(f"{name.replace('_', ' ')}: {old or '(none)'} → {new or '(none)'}"
                            for name, old, new in self.get("changes", []))
        return f"edited {self.whose('account') if self.self_action else self.whom()}{': ' + changes if changes else ''}"

    def admin_granted(self) -> str:
        return f"made {self.whom()} an administrator"

    def admin_removed(self) -> str:
        return f"removed {self.whose('administrator rights')}"

    def password_set_by_admin(self) -> str:
        return f"set a new password for {self.whose('account') if self.self_action else self.whom()}"

    def user_deleted(self) -> str:
        counts = []
        if "sessions" in self.params:
            counts.append(f"{plural(self.get('sessions'), 'session')} ended")
        if "feedback" in self.params:
            counts.append(f"{plural(self.get('feedback'), 'feedback item')} deleted")
        return f"deleted {self.whose('account')}{': ' + ', '.join(counts) if counts else ''}"

    def sessions_revoked(self) -> str:
        if not self.self_action:
            return f"ended {self.whose('sessions')}"
        if "device" in self.params:
            return f"ended one of their sessions ({self.get('device')})"
        if "others" in self.params:
            return f"ended {plural(self.get('others'), 'other session')}"
        return "ended their own sessions"

    def room_created(self) -> str:
        if "room" not in self.params:
            return "created a room"
        return f"created the {'open' if self.get('open', True) else 'closed'} room #{self.get('room')}"

    def room_member_added(self) -> str:
        return f"added {self.whom()} to {self.room()}"

    def room_member_removed(self) -> str:
        return f"removed {self.whom()} from {self.room()}"

    def room_edited(self) -> str:
        changes = "; ".join(f"{name}: {old or '(none)'} → {new or '(none)'}"
                            for name, old, new in self.get("changes", []))
        return f"changed {self.room()}{': ' + changes if changes else ''}"

    def room_deleted(self) -> str:
        count = f" and its {plural(self.get('messages'), 'message')}" if "messages" in self.params else ""
        return f"deleted the room {self.room()}{count}"

    def room(self) -> str:
        return f"#{self.get('room')}" if "room" in self.params else "a room"

    def message_deleted(self) -> str:
        author = self.get("author")
        if author and author == self.actor:
            return "deleted one of their own messages"
        return f"deleted a message by {author}" if author else "deleted a message"

    def password_changed(self) -> str:
        return f"changed {self.whose('password')}"

    def password_reset(self) -> str:  # only ever through the emailed link
        return f"reset {'their password' if self.self_action else self.whose('password')} through an emailed link"

    def feedback_edited(self) -> str:
        return f"edited {self.feedback()}"

    def feedback_deleted(self) -> str:
        return f"deleted {self.feedback()}"

    def feedback(self) -> str:
        whose = "their own feedback" if self.self_action else f"feedback by {self.whom()}"
        return f"{whose}: “{self.get('title')}”" if "title" in self.params else whose

    def invitation_created(self) -> str:
        if "days" not in self.params:
            return "created an invitation link"
        who = "one person" if self.get("uses") == 1 else "several people"
        mailed = f", mailed to {self.get('email')}" if self.get("email") else ""
        return f"created an invitation link for {who}, valid {plural(self.get('days'), 'day')}{mailed}"

    def invitation_revoked(self) -> str:
        made_by = self.get("made_by")
        if made_by and made_by == self.actor:
            return "revoked an invitation link they had made"
        return f"revoked an invitation link made by {made_by}" if made_by else "revoked an invitation link"

    def name_freed(self) -> str:
        whose = {"renamed": ", kept since its owner was renamed", "deleted": ", kept since its account was deleted"}
        return f"freed the username “{self.get('name')}”{whose.get(self.get('reason'), '')}: anyone may take it now"

    def unknown(self) -> str:
        """An action this module does not know, in words from its key: "room.archived" reads
        "archived a room"; a key not ending in a past tense reads as a quoted phrase."""
        parts = [part for part in re.split(r"[^0-9A-Za-z]+", self.action.lower()) if part]
        if len(parts) >= 2 and parts[-1].endswith("ed"):
            thing = " ".join(parts[:-1])
            words = f"{parts[-1]} {'an' if thing[0] in 'aeio' else 'a'} {thing}"  # "a user", "an invitation"
        else:
            words = f"did “{' '.join(parts) or 'something'}”"
        return f"{words}, concerning {self.whom()}" if self.target else words

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
        "room.edited": room_edited,
        "room.deleted": room_deleted,
        "message.deleted": message_deleted,
        "password.changed": password_changed,
        "password.reset": password_reset,
        "feedback.edited": feedback_edited,
        "feedback.deleted": feedback_deleted,
        "invitation.created": invitation_created,
        "invitation.revoked": invitation_revoked,
        "name.freed": name_freed,
        "link_previews.on": lambda self: "turned link previews on",
        "link_previews.off": lambda self: "turned link previews off",
    }


# Every action the app records, each with its own phrase (tests/test_admin.py checks the code
# records no other).
ACTIONS = tuple(_Entry.PHRASES)
