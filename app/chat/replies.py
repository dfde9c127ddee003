"""Replies: a message may answer another of the same conversation (messages.reply_to_id, stored
in the post's transaction). The reply shows a one-line quote of the original AS IT IS NOW: its
author's name and first words, or "Original message deleted". So when the original is edited or
deleted, each reply to it takes its conversation's next number (previews.renumber) and goes out
again as message.edited: a page or program that was away catches up exactly.

A reply counts as a mention of the original's author (unless they wrote the reply, or may no
longer read the conversation): added to mentions.targets' people, so the Mention row, the badge,
/mentions and the notification come from the same machinery as an @name.

app/chat/messages.py calls the rules (original, mention_original, original_changed);
app/chat/events.py calls reply_lists, the loader; templates/chat/_reply_quote.html shows it."""
from __future__ import annotations

import re

from app.chat import markdown, previews
from app.chat.access import may_read, rule_of
from app.chat.mentions import Targets
from app.domain import Invalid
from app.models import Conversation, Message, User, names, reads
from app.web.urls import MAX_SEQ

EXCERPT = 100  # characters of the original's plain text in a quote
NOT_A_MESSAGE = "Reply to a message by its id."
NOT_HERE = "You can only reply to a message of this conversation that is still there."


def reply_id(value: object) -> int | None:
    """What a door received as `reply_to` (a form's text, a JSON number): an id, or None for none
    (absent, empty); anything else is Invalid naming `reply_to`."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and (digits := value.strip()).isascii() and digits.isdigit() and len(digits) <= 19:
        value = int(digits)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_SEQ:
        raise Invalid({"reply_to": NOT_A_MESSAGE})
    return value


async def original(conversation: Conversation, value: object) -> Message | None:
    """The message a post in this conversation answers (None: it answers none): one of the same
    conversation, not deleted. The poster is a member (post() asks first), so they may read it; a
    message anywhere else gets the same words whether it exists or not (nothing leaks)."""
    wanted = reply_id(value)
    if wanted is None:
        return None
    found = await Message.get_or_none(id=wanted, conversation_id=conversation.id, deleted_at__isnull=True)
    if found is None:
        raise Invalid({"reply_to": NOT_HERE})
    return found


async def mention_original(actor: User, conversation: Conversation, reply_to_id: int | None,
                           mentioned: Targets) -> None:
    """A reply mentions the original's author, as an @name would (not @everyone): unless they
    wrote the reply, or may not read the conversation now (a room they left, a removed account)."""
    if reply_to_id is None:
        return
    author_id = await Message.filter(id=reply_to_id).first().values_list("author_id", flat=True)
    if author_id is None or author_id == actor.id or author_id in mentioned.people:
        return
    if may_read(*await rule_of(conversation, author_id)):  # a thread: by its parent's rule
        mentioned.people[author_id] = False


async def original_changed(message: Message) -> None:
    """The original was edited or deleted (after its commit): each reply to it shows the quote
    anew, at its conversation's next number."""
    for reply in await Message.filter(reply_to_id=message.id, deleted_at__isnull=True).order_by("id").values_list(
            "id", flat=True):
        await previews.renumber(reply)


# --- the loader -----------------------------------------------------------------------------------

SPACE = re.compile(r"\s+")
TEXT_TOKENS = {"text", "code_inline", "fence", "code_block"}


def plain(body: str) -> str:
    """The text of a message's Markdown, on one line: what a quote and a Reply bar show."""
    words: list[str] = []
    for token in markdown.MD.parse(body or ""):
        if token.type in TEXT_TOKENS:
            words.append(token.content)
        for child in token.children or ():
            words.append(child.content if child.type in TEXT_TOKENS else " ")
        words.append(" ")
    return SPACE.sub(" ", "".join(words)).strip()


def excerpt(body: str, limit: int = EXCERPT) -> str:
    """The first words of a message, within `limit` characters, "…" when cut."""
    text = plain(body)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" .,;:") + "…"


async def reply_lists(messages) -> None:
    """Give each message `reply_quote`: None, or the original as it is now: {"id", "seq",
    "author_id", "author" (shown name), "username", "excerpt", "deleted"}. One query for the
    originals of all of them (and the names of their authors)."""
    wanted = {}
    for message in messages:
        message.reply_quote = None
        if getattr(message, "reply_to_id", None) is not None:
            wanted.setdefault(message.reply_to_id, []).append(message)
    if not wanted:
        return
    rows = await reads.rows(
        "SELECT id, seq, author_id, author_name, body, deleted_at FROM messages "
        f"WHERE id IN ({', '.join('?' * len(wanted))})", list(wanted))
    labels = await names.labels(row["author_id"] for row in rows)
    for row in rows:
        label = labels.get(row["author_id"])
        deleted = row["deleted_at"] is not None
        quote = {"id": row["id"], "seq": row["seq"], "author_id": row["author_id"],
                 "author": label.name if label else row["author_name"],
                 "username": label.username if label else row["author_name"],
                 "excerpt": None if deleted else excerpt(row["body"]), "deleted": deleted}
        for message in wanted[row["id"]]:
            message.reply_quote = quote


async def bar(conversation: Conversation, value: object) -> dict | None:
    """What the composer's "Replying to …" bar shows for `?reply_to=<id>` (Reply without a
    script): {"id", "author", "excerpt"}, or None when it names no message one may answer here."""
    try:
        found = await original(conversation, value)
    except Invalid:
        return None
    if found is None:
        return None
    label = (await names.labels([found.author_id])).get(found.author_id)
    return {"id": found.id, "author": label.name if label else found.author_name, "excerpt": excerpt(found.body)}


def reply_data(message: Message) -> dict | None:
    """For programs (`reply_to` in events.message_data): the original's id, its seq, its author's
    username now, its first words, and whether it is deleted (then `excerpt` is null)."""
    quote = getattr(message, "reply_quote", None)
    if quote is None or message.deleted_at is not None:
        return None
    return {"id": quote["id"], "seq": quote["seq"], "author": quote["username"], "excerpt": quote["excerpt"],
            "deleted": quote["deleted"]}
