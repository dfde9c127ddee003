"""Who does something: a signed-in User, or SYSTEM, the operator at the command line.

The command line has every administrator's power and no account. It is a value its callers pass
on purpose (`admin.create_user(SYSTEM, values)`); a missing actor (None) is a programming error
that `check_actor` refuses with a TypeError, never "the system"."""
from __future__ import annotations

from typing import Final, TypeAlias

from app.models.user import User


class SystemActor:
    """The operator at the command line: may do what an administrator may, owns nothing, and
    the audit log names it "The command line". There is one, SYSTEM."""

    is_admin: Final = True
    id: Final = None  # nobody's account: never equal to a user's id
    username: Final = ""  # how the audit log stores it (an entry with no actor name)

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM: Final = SystemActor()

Actor: TypeAlias = User | SystemActor


def check_actor(actor: object) -> Actor:
    """The actor, if it is one (a User or SYSTEM); anything else, None above all, is a TypeError:
    a caller that forgot who acts must not be taken for the command line."""
    if not isinstance(actor, (User, SystemActor)):
        raise TypeError(f"actor must be a User or SYSTEM, not {actor!r}")
    return actor
