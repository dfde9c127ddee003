"""Reactions: a member puts an emoji on a message, or takes theirs back; the same emoji again
toggles it. Only members of the conversation react (as only they post), never on a deleted
message nor in an archived room; the emoji is one of app/chat/emoji.py's table (422 otherwise);
each change counts against the posting limit. Each takes the conversation's next number and
gives it to the message as its new version, in one transaction, like an edit: pages get the
message again (its reactions under it), programs `reaction.added` / `reaction.removed`, and a
page or program catching up gets the message's latest version with all its reactions."""
from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.chat import emoji as emoji_table
from app.chat import events
from app.chat.messages import get_message
from app.chat.reaction_lists import reaction_lists
from app.domain import Invalid
from app.models import Conversation, Message, Reaction, User
from app.runtime import runtime

REACTING_TOO_FAST = "You are reacting very fast: wait {wait} s, then try again."
NOT_AN_EMOJI = "Choose one emoji from the list (or type its name)."
RECENT = 16  # the palette's "recently used"


class _Unchanged(Exception):
    """Raised inside the transaction to roll it back: the reaction was there (or not) already."""


def check_emoji(value: object) -> str:
    """The emoji as kept (one entry of the table), or Invalid naming `emoji`."""
    found = emoji_table.known(value)
    if found is None:
        raise Invalid({"emoji": NOT_AN_EMOJI})
    return found


async def react(actor: User, message_id: int, emoji: str) -> Message:
    """Add the actor's reaction (already there: nothing changes, nothing is counted)."""
    return (await _change(actor, message_id, check_emoji(emoji), add=True))[0]


async def unreact(actor: User, message_id: int, emoji: str) -> Message:
    """Take the actor's reaction back (only their own; not there: nothing changes)."""
    return (await _change(actor, message_id, check_emoji(emoji), add=False))[0]


async def toggle(actor: User, message_id: int, emoji: str) -> tuple[Message, bool]:
    """The same click again removes it: (the message, whether the reaction is there now)."""
    emoji = check_emoji(emoji)
    message = await get_message(actor, message_id)
    mine = await Reaction.exists(message_id=message.id, user_id=actor.id, emoji=emoji)
    message, _ = await _change(actor, message_id, emoji, add=not mine, message=message)
    return message, not mine


async def _change(actor: User, message_id: int, emoji: str, *, add: bool,
                  message: Message | None = None) -> tuple[Message, bool]:
    message = message or await get_message(actor, message_id)  # members only; deleted ones are gone
    _check_open(message.conversation)
    there = await Reaction.exists(message_id=message.id, user_id=actor.id, emoji=emoji)
    if there == add:
        return await _loaded(message), False
    await runtime().limiters.post_user.spend(str(actor.id), REACTING_TOO_FAST)
    try:
        async with in_transaction() as conn:
            seq = await Conversation.next_seq(conn, message.conversation_id)  # a delete or archive takes it too
            _check_open(await Conversation.get(id=message.conversation_id).using_db(conn))
            mine = Reaction.filter(message_id=message.id, user_id=actor.id, emoji=emoji).using_db(conn)
            if add:
                await Reaction.create(message_id=message.id, user_id=actor.id, emoji=emoji, using_db=conn)
            elif not await mine.delete():
                raise _Unchanged
            if not await Message.filter(id=message.id, deleted_at__isnull=True).using_db(conn).update(version_seq=seq):
                raise _Unchanged  # deleted meanwhile: nothing to react to
    except (_Unchanged, IntegrityError):  # the same change raced this one (or the message went)
        return await _loaded(await get_message(actor, message_id)), False
    message.version_seq = seq
    await _loaded(message)
    await events.reaction_changed(message, "reaction.added" if add else "reaction.removed", emoji, actor.id)
    return message, True


def _check_open(conversation: Conversation) -> None:
    if conversation.archived_at is not None:
        where = f"#{conversation.name}" if conversation.name else "This thread's room"  # archived with its room
        raise Invalid({"emoji": f"{where} is archived: it is read-only."})


async def _loaded(message: Message) -> Message:
    await reaction_lists([message])
    return message


async def recent(actor: User, limit: int = RECENT) -> list[str]:
    """The emoji the actor used lately, newest first (the palette shows them first)."""
    rows = await Reaction.filter(user_id=actor.id).order_by("-id").limit(limit * 4).values_list("emoji", flat=True)
    return [e for e in dict.fromkeys(rows) if emoji_table.known(e)][:limit]
