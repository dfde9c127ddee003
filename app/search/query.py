"""What a person typed into a search field, understood: a small parser of our own (pure Python,
never raises), so nothing typed ever reaches a database's query language as syntax.

    words              each must be there (AND); `AND`, `OR`, `NOT`, `NEAR(`, `*`, `^` are words too
    "exact phrase"     its words, next to each other in that order (an unclosed quote runs to the end)
    -word  -"phrase"   must not be there
    from:name          by that person (`from:@name` too); several: by any of them
    in:#room  in:@name in that room, or the direct conversation with that person; several: any
    before:2026-12-01  written before that day (UTC); after:… after it. A bad date is a word.
    has:link           with a web address
    the last word      while typing, matched as the start of a word (`dep` finds `deploy`),
                       unless a space follows it

Anything else is searched as words."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from app.models import search_text

MAX_LENGTH = 2000  # a longer paste is read by its first 2,000 characters
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FILTERS = ("from", "in", "before", "after", "has")


@dataclass(frozen=True)
class Query:
    words: tuple[str, ...] = ()        # each must be there, as typed
    phrases: tuple[str, ...] = ()      # each must be there, words in order
    excluded: tuple[str, ...] = ()     # words and phrases that must not be there (phrases in quotes)
    from_: tuple[str, ...] = ()        # usernames, as typed (without @)
    in_: tuple[str, ...] = ()          # "#room" or "@name"
    before: dt.date | None = None
    after: dt.date | None = None
    has_link: bool = False
    prefix: str | None = None          # the last word, matched as the start of a word while typing

    @property
    def searchable(self) -> bool:
        """Something to look for: words, a phrase or a filter (exclusions alone find nothing)."""
        return bool(self.positive_texts() or self.from_ or self.in_ or self.before or self.after or self.has_link)

    def positive_texts(self) -> list[str]:
        """Words, phrases and the prefix that have atoms (the rest is noise: `*`, `^`, `(`)."""
        texts = [*self.words, *self.phrases, *([self.prefix] if self.prefix else [])]
        return [text for text in texts if search_text.atoms(text)]


def _date(value: str) -> dt.date | None:
    if not _DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _pieces(text: str) -> list[tuple[str, bool, bool]]:
    """(text, quoted, excluded) for each whitespace-separated word or quoted phrase."""
    pieces, i, n = [], 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        excluded = text[i] == "-" and i + 1 < n and not text[i + 1].isspace()
        start = i + 1 if excluded else i
        if start < n and text[start] == '"':
            end = text.find('"', start + 1)
            end = n if end == -1 else end
            pieces.append((text[start + 1:end], True, excluded))
            i = end + 1
        else:
            end = start
            while end < n and not text[end].isspace() and text[end] != '"':
                end += 1
            pieces.append((text[start:end], False, excluded))
            i = end
    return pieces


def parse(q: str) -> Query:
    """The query as understood. Never raises, whatever q is."""
    text = (q or "")[:MAX_LENGTH] if isinstance(q, str) else ""
    words: list[str] = []
    phrases: list[str] = []
    excluded: list[str] = []
    from_: list[str] = []
    in_: list[str] = []
    before = after = None
    has_link = False
    pieces = _pieces(text)
    for piece, quoted, negative in pieces:
        if not piece.strip():
            continue
        if quoted:
            (excluded if negative else phrases).append(f'"{piece}"' if negative else piece)
            continue
        key, colon, value = piece.partition(":")
        key = key.lower()
        if colon and value and key in _FILTERS and not negative:
            if key == "from":
                from_.append(value.lstrip("@"))
                continue
            if key == "in":
                in_.append(value if value[0] in "#@" else "#" + value)
                continue
            if key in ("before", "after") and (day := _date(value)):
                if key == "before":
                    before = day if before is None else min(before, day)
                else:
                    after = day if after is None else max(after, day)
                continue
            if key == "has" and value.lower() == "link":
                has_link = True
                continue
        (excluded if negative else words).append(piece)
    prefix = None
    # While typing, the last word is the start of a word: unless a space (or a quote) ends it.
    if words and pieces and not pieces[-1][1] and not pieces[-1][2] and pieces[-1][0] == words[-1] \
            and text and not text[-1].isspace() and text[-1] != '"':
        last = search_text.atoms(words[-1])
        if last and not last[-1].cjk and len(last[-1].text) >= 2:
            prefix = words.pop()
    return Query(tuple(words), tuple(phrases), tuple(excluded), tuple(from_), tuple(in_), before, after,
                 has_link, prefix)
