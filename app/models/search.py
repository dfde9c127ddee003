"""The search index's rows: one per message that is not deleted, written in the transaction that
posts, edits or deletes the message (app/chat/service.py), so the very next query sees the change.

A row holds the message's terms as one string of [0-9a-z] tokens separated by spaces: first its
atoms in order (app/models/search_text.py), then, after the marker `q` (which no atom encodes
to), the extra terms: CJK bigrams, hyphenated words joined, `has:link`. The atoms in order are
what a phrase is checked against (`' ' || terms || ' ' LIKE '% sess opts %'`: every token is
[0-9a-z], so nothing in a pattern is a LIKE wildcard); the whole string is what the database's
own index holds:

- SQLite: an FTS5 table (message_fts) with this table as its external content, kept in step by
  triggers (migration 11), `unicode61` over tokens that cannot be split, prefix indexes for the
  word being typed, `detail=none` (phrases are checked here, not by positions);
- PostgreSQL: a stored generated column `vector`, `array_to_tsvector(string_to_array(terms, ' '))`,
  with a GIN index (migration 12): the lexemes are ours, never re-parsed, and queries are built
  from quoted lexemes (`'abc' & 'de':*`).

Neither the FTS5 table, its triggers, the generated column nor the GIN index can be described by
a Tortoise model: migrations 11 and 12 make them (tests/test_migrations.py names them as the one
exception)."""
from __future__ import annotations

import re

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from app.models import search_text
from app.models.user import _sql

SEPARATOR = "q"                 # between the atoms in order and the extra terms: no atom encodes to it
LINK = "qzzzzlink"              # has:link (q + zzzz is past the last code point: never an encoded character)
_PLAIN = set("abcdefghijklmnoprstuvwxyz0123456789")  # every [0-9a-z] but the escape, q
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


class MessageSearch(Model):
    message_id = fields.BigIntField(primary_key=True, generated=False)
    conversation_id = fields.IntField()
    terms = fields.TextField()

    class Meta:
        table = "message_search"
        indexes = (("conversation_id", "message_id"),)


def _base36(number: int) -> str:
    digits = []
    for _ in range(4):
        number, digit = divmod(number, 36)
        digits.append(_DIGITS[digit])
    return "".join(reversed(digits))


def encode(term: str) -> str:
    """A term as [0-9a-z]: letters and digits as themselves, anything else (and q) as q + four
    base-36 digits of its code point. A prefix of a term encodes to a prefix of its encoding."""
    if _PLAIN.issuperset(term):
        return term
    return "".join(ch if ch in _PLAIN else SEPARATOR + _base36(ord(ch)) for ch in term)


_ASCII_WORD = re.compile(r"[a-z0-9]+")
_ASCII_HYPHENATED = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")


def terms(body: str) -> str:
    """What the index holds for a message body."""
    if not body.isascii():
        return _terms(body)
    # The common case without building atoms (a third of the time): the same terms, as a test
    # checks against _terms for any ASCII text.
    lowered = body.lower()
    words = [encode(word) if "q" in word else word for word in _ASCII_WORD.findall(lowered)]
    extras = [encode(joined.replace("-", "")) for joined in _ASCII_HYPHENATED.findall(lowered)
              if 2 <= joined.count("-") + 1 <= 4]
    if search_text.has_link(body):
        extras.append(LINK)
    if extras:
        words += [SEPARATOR, *extras]
    return " ".join(words)


def _terms(body: str) -> str:
    found = search_text.atoms(body)
    extras = [*search_text.bigrams(found), *search_text.hyphen_joins(found)]
    if search_text.has_link(body):
        extras.append(LINK)
    words = [encode(atom.text) for atom in found]
    if extras:
        words += [SEPARATOR, *(term if term == LINK else encode(term) for term in extras)]
    return " ".join(words)


async def index(conn: BaseDBAsyncClient, message_id: int, conversation_id: int, body: str) -> None:
    """A new message's row, inside the transaction that posts it."""
    await conn.execute_query(
        _sql(conn, "INSERT INTO message_search (message_id, conversation_id, terms) VALUES (?, ?, ?)"),
        [message_id, conversation_id, terms(body)])


async def reindex(conn: BaseDBAsyncClient, message_id: int, body: str) -> None:
    """An edited message's row, inside the transaction that edits it: found by its new words only."""
    await conn.execute_query(_sql(conn, "UPDATE message_search SET terms = ? WHERE message_id = ?"),
                             [terms(body), message_id])


async def unindex(conn: BaseDBAsyncClient, message_id: int) -> None:
    """A deleted message leaves the index, inside the transaction that deletes it."""
    await conn.execute_query(_sql(conn, "DELETE FROM message_search WHERE message_id = ?"), [message_id])
