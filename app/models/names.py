"""What the screen calls people: the display name, else the username, with the @username beside
it where two could be taken for each other. Computed from the users as they are now (never a
name copied at post time), for many people in a few queries."""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import NamedTuple

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from app.models import reads
from app.models.links import SiteSetting
from app.models.reserved import ReservedName
from app.models.user import User

EPOCH = "names_epoch"  # a SiteSetting: new whenever someone's label changes (see epoch())


class Label(NamedTuple):
    """How one person is shown: `name`, and `handle` (their username) when it must be beside it;
    `avatar`, their picture's key (None: initials), so a fragment keyed by the label is rendered
    again when the picture changes (app/files/avatars.py)."""
    id: int
    name: str
    username: str
    display_name: str
    handle: bool
    avatar: str | None = None

    @property
    def full(self) -> str:
        """As text: "Ada Lovelace (@ada)" where the handle is needed, else the name."""
        return f"{self.name} (@{self.username})" if self.handle else self.name


async def labels(user_ids: Iterable[int | None]) -> dict[int, Label]:
    """The labels of these people (those that exist). A display name needs its @username beside
    it when it looks like (the same TR39 skeleton, case-folded) another person's display name,
    any username (of someone else), or a name reserved from an earlier owner."""
    ids = {uid for uid in user_ids if uid is not None}
    if not ids:
        return {}
    # Plain SQL (app/models/reads.py): every page asks this of its messages' authors, and the
    # ORM built the query anew each time, costing more than the query.
    marks = ",".join("?" * len(ids))
    people = [_Person(**row) for row in await reads.rows(
        f"SELECT id, username, display_name, display_name_skeleton, avatar FROM users WHERE id IN ({marks})",
        sorted(ids))]
    return await _labelled(people)


class _Person(NamedTuple):
    """What a label is made of: the columns labels() reads (a User has them too: labels_of)."""
    id: int
    username: str
    display_name: str
    display_name_skeleton: str | None
    avatar: str | None


async def labels_of(people: Iterable[User]) -> dict[int, Label]:
    """The labels of users already loaded (no query for who they are)."""
    return await _labelled(list(people))


async def _labelled(people: list) -> dict[int, Label]:
    skeletons = {p.display_name_skeleton for p in people if p.display_name and p.display_name_skeleton}
    holders: dict[str, set[int | None]] = {s: set() for s in skeletons}
    if skeletons:
        for uid, dn, un in await User.filter(
            Q(display_name_skeleton__in=skeletons) | Q(username_skeleton__in=skeletons)
        ).values_list("id", "display_name_skeleton", "username_skeleton"):
            for skeleton in {dn, un} & skeletons:
                holders[skeleton].add(uid)
        for skeleton in await ReservedName.filter(name_skeleton__in=skeletons).values_list("name_skeleton", flat=True):
            holders[skeleton].add(None)  # a name someone had: its messages may still carry it
    found = {}
    for p in people:
        handle = bool(p.display_name) and bool(holders.get(p.display_name_skeleton, set()) - {p.id})
        found[p.id] = Label(p.id, p.display_name or p.username, p.username, p.display_name, handle, p.avatar)
    return found


async def affected_by(*skeletons: str | None) -> set[int]:
    """The people whose label may change when these skeletons come or go (a display name or a
    username changes, a reserved name is freed): whoever has a display name with one of them."""
    wanted = {s for s in skeletons if s}
    if not wanted:
        return set()
    return set(await User.filter(display_name_skeleton__in=wanted).values_list("id", flat=True))


async def epoch() -> str:
    """The names' generation: a token made anew by every change of anyone's label (a rename, a
    display name, a handle that comes or goes), kept in the database so that every worker reads
    the same. Rendered fragments that show others' names (a reply's quote, a thread's summary,
    reaction chips) are keyed by it (app/chat/events.py): a rename renders them again. One
    primary-key read."""
    rows = await reads.rows("SELECT value FROM site_settings WHERE key = ?", [EPOCH])
    return rows[0]["value"] if rows else ""


async def new_epoch() -> None:
    """After a commit that changed someone's label: a new generation of names (see epoch())."""
    token = secrets.token_hex(8)
    if await SiteSetting.filter(key=EPOCH).update(value=token):
        return
    try:
        await SiteSetting.create(key=EPOCH, value=token)
    except IntegrityError:  # another worker made the row meanwhile
        await SiteSetting.filter(key=EPOCH).update(value=token)
