"""Conversations: rooms (open or closed, their members) and direct conversations (one per set of
people). The rules live here; app/chat/service.py re-exports them beside the message rules, so
callers have one service to call."""
from __future__ import annotations

import re
import unicodedata

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from app import lookalikes, signals
from app.chat import threads, user_events
from app.domain import Invalid, NotAllowed, NotFound, quotable, text_problem
from app.models import DIRECT, ROOM, AuditEvent, Conversation, Membership, User

GENERAL = "general"
EVERYONE_IN_GENERAL = "Everyone is in #general: nobody leaves it or is removed from it."
ROOM_NAME_MAX = 40
TOPIC_MAX = 200
DIRECT_MAX_PEOPLE = 10
ROOM_TAKEN = "There is already a room with that name."
ROOM_TOO_CLOSE = "That name looks too much like an existing room's: choose another."
ROOM_MIXED_SCRIPTS = "Write each word of the name in one alphabet (no Latin and Cyrillic letters mixed, say)."


# --- rooms --------------------------------------------------------------------------------------

def room_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name.strip().lstrip("#")).casefold()


def check_room(name: str, topic: str) -> tuple[str, str]:
    name = unicodedata.normalize("NFKC", name.strip().lstrip("#"))
    topic = topic.strip()
    errors = {}
    if not name:
        errors["name"] = "Give the room a name."
    elif len(name) > ROOM_NAME_MAX:
        errors["name"] = f"Keep the name to {ROOM_NAME_MAX} characters."
    elif problem := text_problem(name):
        errors["name"] = problem
    elif not all(ch.isalnum() or ch in "-_." for ch in name):
        errors["name"] = "Use letters, digits, '-', '_' or '.' (no spaces)."
    elif any(lookalikes.mixed_scripts(word) for word in re.split(r"[-_.]", name)):
        # "gеneral" with a Cyrillic е would pass for #general; "dev-разработка" is two words.
        errors["name"] = ROOM_MIXED_SCRIPTS
    if len(topic) > TOPIC_MAX:
        errors["topic"] = f"Keep the topic to {TOPIC_MAX} characters."
    elif problem := text_problem(topic):
        errors["topic"] = problem
    if errors:
        raise Invalid(errors)
    return name, topic


def is_everyones(conversation: Conversation) -> bool:
    """#general: every account is in it from the day it is made (welcome) to its last; nobody
    leaves it and nobody is removed from it. The one rule, asked by leave, remove_member and
    the page (may_leave)."""
    return conversation.is_room and conversation.name_key == GENERAL


def may_leave(conversation: Conversation) -> bool:
    """Whether a member may leave: rooms only, never #general."""
    return conversation.is_room and not is_everyones(conversation)


async def general() -> Conversation:
    """#general exists from the first run; every account is in it."""
    room = await Conversation.get_or_none(name_key=GENERAL)
    if room is None:
        try:
            room = await Conversation.create(kind=ROOM, name=GENERAL, name_key=GENERAL, is_open=True,
                                             topic="Everyone, about anything.")
        except IntegrityError:  # made at the same moment by someone else
            return await Conversation.get(name_key=GENERAL)
        # Everyone is in #general: the accounts that exist when it is made (a site from before
        # chat) join now, every later one when it is made (welcome).
        await Membership.bulk_create([Membership(user_id=uid, conversation_id=room.id)
                                      for uid in await User.all().values_list("id", flat=True)],
                                     ignore_conflicts=True)
    return room


async def welcome(user: User) -> None:
    """A new account joins #general."""
    room = await general()
    await Membership.get_or_create(user_id=user.id, conversation_id=room.id,
                                   defaults={"last_read_seq": room.last_seq})


def subscribe() -> None:
    """At start-up: what chat does when accounts announce something (app/signals.py)."""
    signals.user_created.connect(welcome)


CHOOSE_ACCESS = "Choose who can see the room: every member (open), or only the people you add (closed)."
OPEN_WITH_MEMBERS = ("An open room is for every member, so it takes no list of members: choose Closed to keep "
                     "it to these people, or empty Members.")


async def create_room(actor: User, name: str, topic: str = "", *, is_open: bool | None = True,
                      member_names: list[str] = ()) -> Conversation:
    """A room, open to every member or closed to the people named. is_open None means nobody
    chose (the page's form has no default): refused, as is an open room given members (they
    would be dropped without a word, and the room listed for everyone)."""
    errors = {}
    if is_open is None:
        errors["open"] = CHOOSE_ACCESS
    elif is_open and [n for n in member_names if n.strip()]:
        errors["members"] = OPEN_WITH_MEMBERS
    try:
        name, topic = check_room(name, topic)
    except Invalid as refused:
        raise Invalid({**refused.errors, **errors}) from None
    if errors:
        raise Invalid(errors)
    key, (folded, shown) = room_key(name), Conversation.skeletons(name)
    look_alikes = Conversation.filter(Q(name_skeleton=folded) | Q(name_shown_skeleton=shown)).exclude(name_key=key)
    if await look_alikes.exists():  # (which room is not said: it may be closed)
        raise Invalid({"name": ROOM_TOO_CLOSE})
    try:
        people = await _users_named([n for n in member_names if n.strip()]) if not is_open else []
    except Invalid as refused:  # said by the field the names were typed in
        raise Invalid({"members": refused.errors["usernames"]}) from None
    try:
        async with in_transaction():
            room = await Conversation.create(kind=ROOM, name=name, name_key=key, name_skeleton=folded,
                                             name_shown_skeleton=shown, topic=topic, is_open=is_open,
                                             created_by=actor)
            for person in {actor.id: actor, **{p.id: p for p in people}}.values():
                await Membership.create(conversation=room, user=person)
            await AuditEvent.record(actor, "room.created", None, room=name, open=is_open)
    except IntegrityError:  # made at the same moment: the same name, or one that looks like it
        taken = await Conversation.exists(name_key=key)
        raise Invalid({"name": ROOM_TAKEN if taken else ROOM_TOO_CLOSE}) from None
    await user_events.membership_changed(room, [actor.id, *(p.id for p in people)])
    if is_open:
        await user_events.rooms_changed()
    return room


async def join(actor: User, conversation: Conversation) -> Membership:
    if not (conversation.is_room and conversation.is_open):
        raise NotFound("There is no such conversation, or you are not in it.")
    member, _ = await Membership.get_or_create(user_id=actor.id, conversation_id=conversation.id,
                                               defaults={"last_read_seq": 0})
    await user_events.membership_changed(conversation, [actor.id])
    return member


async def open_room(actor: User, name: str, topic: str = "") -> tuple[Conversation, bool]:
    """A room by name for a program: joined if it is open, made if there is none (True), refused
    if it is closed to the actor. The name is checked first: one that cannot exist is refused."""
    name, topic = check_room(name, topic)
    room = await Conversation.get_or_none(name_key=room_key(name), kind=ROOM)
    if room is None:
        return await create_room(actor, name, topic), True
    if not await Membership.exists(user_id=actor.id, conversation_id=room.id):
        if not room.is_open:
            raise Invalid({"room": ROOM_TAKEN})
        await join(actor, room)
    return room, False


async def leave(actor: User, conversation: Conversation) -> None:
    if not conversation.is_room:
        raise NotAllowed("You cannot leave a direct conversation.")
    if is_everyones(conversation):
        raise NotAllowed(EVERYONE_IN_GENERAL)
    await Membership.filter(user_id=actor.id, conversation_id=conversation.id).delete()
    await user_events.membership_changed(conversation, [actor.id], gone="left")
    await threads.forget_follows(conversation, [actor.id])  # following is not access


def may_manage(actor: User, conversation: Conversation) -> bool:
    return conversation.is_room and (actor.is_admin or conversation.created_by_id == actor.id)


async def add_member(actor: User, conversation: Conversation, username: str) -> User:
    if not may_manage(actor, conversation):
        raise NotAllowed("Only the room's creator and administrators can add people.")
    person = (await _users_named([username]))[0]
    async with in_transaction():
        await Membership.get_or_create(user_id=person.id, conversation_id=conversation.id)
        await AuditEvent.record(actor, "room.member_added", person, room=conversation.name)
    await user_events.membership_changed(conversation, [person.id])
    return person


async def remove_member(actor: User, conversation: Conversation, person: User) -> None:
    if not may_manage(actor, conversation):
        raise NotAllowed("Only the room's creator and administrators can remove people.")
    if is_everyones(conversation):
        raise NotAllowed(EVERYONE_IN_GENERAL)
    async with in_transaction():
        removed = await Membership.filter(user_id=person.id, conversation_id=conversation.id).delete()
        if not removed:
            raise NotFound(f"{person.username} is not in this room.")
        if person.id != actor.id:
            await AuditEvent.record(actor, "room.member_removed", person, room=conversation.name)
    # A page of theirs showing the room says so at once ("You were removed from #leads").
    await user_events.membership_changed(conversation, [person.id], gone="left" if person.id == actor.id else "removed")
    await threads.forget_follows(conversation, [person.id])  # following is not access


# --- direct conversations ------------------------------------------------------------------------

async def _users_named(names) -> list[User]:
    people = []
    for name in names:
        person = await User.by_username(name) if name and name.strip() else None
        if person is None:
            raise Invalid({"usernames": f"There is no user called {quotable(name.strip()[:40])}."})
        people.append(person)
    return people


async def direct_people(actor: User, usernames: list[str]) -> list[User]:
    names = [n for n in (u.strip().lstrip("@") for u in usernames) if n]
    if not names:
        raise Invalid({"usernames": "Choose who to write to."})
    people = {p.id: p for p in await _users_named(names)}
    people[actor.id] = actor
    if len(people) > DIRECT_MAX_PEOPLE:
        raise Invalid({"usernames": f"A direct conversation has at most {DIRECT_MAX_PEOPLE} people."})
    return sorted(people.values(), key=lambda p: p.id)


def direct_key(people: list[User]) -> str:
    return ",".join(str(p.id) for p in sorted(people, key=lambda p: p.id))


async def find_direct(actor: User, usernames: list[str]) -> Conversation | None:
    """The one conversation these people have, if they have started it."""
    return await Conversation.get_or_none(direct_key=direct_key(await direct_people(actor, usernames)))


async def open_direct(actor: User, usernames: list[str]) -> Conversation:
    """The conversation of exactly these people (and the actor), made on first use."""
    people = await direct_people(actor, usernames)
    key = direct_key(people)
    found = await Conversation.get_or_none(direct_key=key)
    if found is not None:
        return found
    try:
        async with in_transaction():
            conversation = await Conversation.create(kind=DIRECT, direct_key=key, created_by=actor)
            for person in people:
                await Membership.create(conversation=conversation, user=person)
    except IntegrityError:  # the other person started it at the same moment
        return await Conversation.get(direct_key=key)
    await user_events.membership_changed(conversation, [p.id for p in people])
    return conversation
