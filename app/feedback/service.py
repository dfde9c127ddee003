"""Feedback rules, in one place: who may read, write, change and delete feedback, and what an
administrator's change to someone else's feedback leaves behind (its name on the item, and an
audit entry). Feedback is always shown as written by its real writer: nobody, administrators
included, adds feedback in someone else's name."""
from __future__ import annotations

from tortoise.transactions import in_transaction

from app import signals
from app.domain import Invalid, NotAllowed, text_problem
from app.models import AuditEvent, Feedback, User

NOT_IN_THEIR_NAME = ("Feedback is written by its author: nobody adds it in someone else's name. "
                     "Add your own on your profile.")


def check(title: str, content: str) -> tuple[str, str]:
    title, content = (title or "").strip(), (content or "").strip()
    errors = {}
    if not title:
        errors["title"] = "Enter a title."
    elif len(title) > Feedback.TITLE_MAX:
        errors["title"] = f"Keep the title to {Feedback.TITLE_MAX} characters (this one has {len(title)})."
    if not content:
        errors["content"] = "Write what you want to tell us."
    elif len(content) > Feedback.CONTENT_MAX:
        errors["content"] = f"Keep it under {Feedback.CONTENT_MAX:,} characters."
    for name, value in (("title", title), ("content", content)):
        if name not in errors and (problem := text_problem(value)):
            errors[name] = problem
    if errors:
        raise Invalid(errors)
    return title, content


def may_add(actor: User, person: User) -> bool:
    return actor.id == person.id


def may_read(viewer: User, person: User) -> bool:
    """Feedback is between its author and the administrators: other members never see it, nor
    whether there is any."""
    return viewer.id == person.id or viewer.is_admin


async def on_profile(viewer: User, person: User) -> list[Feedback] | None:
    """What person's profile shows viewer of their feedback: all of it, newest first; None when
    it is not for this viewer."""
    if not may_read(viewer, person):
        return None
    return await Feedback.filter(author_id=person.id).select_related("author").order_by("-id")


async def profile_section(viewer: User, person: User) -> dict:
    """The profile page's feedback (accounts asks through signals.profile_shown)."""
    return {"feedback": await on_profile(viewer, person)}


def subscribe() -> None:
    """At start-up: answer the profile page (app/signals.py)."""
    signals.profile_shown.connect(profile_section)


def may_manage(actor: User, item: Feedback) -> bool:
    return item.author_id == actor.id or actor.is_admin


async def add(actor: User, person: User, title: str, content: str) -> Feedback:
    if not may_add(actor, person):
        raise NotAllowed(NOT_IN_THEIR_NAME)
    title, content = check(title, content)
    item = await Feedback.create(title=title, content=content, author=person)
    item.author = person
    return item


async def update(actor: User, item: Feedback, title: str, content: str) -> Feedback:
    """Its author edits it; an administrator may too, and then the item says who, and the audit
    log has it."""
    if not may_manage(actor, item):
        raise NotAllowed("Only its author and administrators can change this feedback.")
    title, content = check(title, content)
    if (title, content) == (item.title, item.content):
        return item
    async with in_transaction():
        item.title, item.content = title, content
        if actor.id != item.author_id:
            item.edited_by_name = actor.username
            await AuditEvent.record(actor, "feedback.edited", item.author, title=title)
        await item.save()
    return item


async def delete(actor: User, item: Feedback) -> None:
    if not may_manage(actor, item):
        raise NotAllowed("Only its author and administrators can delete this feedback.")
    async with in_transaction():
        await item.delete()
        if actor.id != item.author_id:
            await AuditEvent.record(actor, "feedback.deleted", item.author, title=item.title)
