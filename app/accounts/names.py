"""Display names and renames, as every door asks for them: set one's display name (or an
administrator someone's), and tell every open page and program who is now called what.

What a person is called is computed when shown (app/models/names.py), never copied: a message
shows its author's name as it is now. A rename changes the labels of the renamed person and of
whoever's display name looks like the old or new name (their @username comes or goes), so the
labels of all of them are compared before and after, and each one that changed is announced."""
from __future__ import annotations

from tortoise.transactions import in_transaction

from app import lookalikes
from app.accounts.rules import check_display_name, clean_display_name
from app.domain import Invalid, NotAllowed
from app.models import AuditEvent, User, names
from app.models.actor import Actor, check_actor
from app.models.names import Label
from app.realtime.events import names_changed, people_changed
from app.web.forms import Form


def skeletons_of(user: User) -> tuple[str | None, ...]:
    """What others' labels depend on: this person's display name and username skeletons."""
    return (user.display_name_skeleton, user.username_skeleton, lookalikes.folded_skeleton(user.username))


async def labels_around(user_ids, *skeletons: str | None) -> dict[int, Label]:
    """The labels of these people and of everyone whose label depends on these skeletons."""
    return await names.labels({*user_ids, *await names.affected_by(*skeletons)})


async def announce(before: dict[int, Label], user_ids, *skeletons: str | None) -> None:
    """After a commit: every label that differs from `before` goes to every page and program, and
    lists of people (the sidebar, the team page) fetch themselves again; the rendered messages
    that show names (quotes, thread summaries, reactions) are keyed by a new names epoch."""
    after = await labels_around({*user_ids, *before}, *skeletons)
    changed = [label for uid, label in after.items() if before.get(uid) != label]
    if changed:  # before the pages hear it: what they fetch then is rendered with the new names
        await names.new_epoch()
    await names_changed(changed)
    if changed:
        await people_changed()


def may_rename(actor: Actor, target: User) -> bool:
    return check_actor(actor).id == target.id or actor.is_admin


async def set_display_name(actor: Actor, target: User, raw: str) -> User:
    """The person (or an administrator) sets target's display name; "" shows the username.
    Audited as an edit; every open page shows the new name at once."""
    if not may_rename(actor, target):
        raise NotAllowed("Only this user and administrators can change their display name.")
    if not isinstance(raw, str):
        raise Invalid({"display_name": "Give the display name as text."})
    form = Form(values={"display_name": clean_display_name(raw)})
    check_display_name(form)
    if not form.ok:
        raise Invalid(form.errors)
    new = form.values["display_name"]
    if new == target.display_name:
        return target
    old, old_skeleton = target.display_name, target.display_name_skeleton
    before = await labels_around({target.id}, old_skeleton, *skeletons_of(target))
    target.set_display_name(new)
    async with in_transaction():
        await User.filter(id=target.id).update(display_name=new, display_name_skeleton=target.display_name_skeleton)
        await AuditEvent.record(actor, "user.edited", target, changes=[["display_name", old, new]])
    await announce(before, {target.id}, old_skeleton, *skeletons_of(target))
    return target
