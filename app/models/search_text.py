"""The one search normaliser, for the index and the query alike, on SQLite and PostgreSQL.

Text becomes *atoms*: runs of letters and digits, NFKC-normalised (full-width forms become plain
ones), case-folded, accents on Latin, Greek and Cyrillic letters removed (`café` → `cafe`; the
Japanese voicing marks stay: `が` is not `か`), with a few letters no decomposition reaches
(`ø` → `o`, `æ` → `ae`). Everything else separates atoms, so an identifier, a URL, a date or a
hyphenated word is a sequence of atoms (`sess.opts` → `sess opts`, `2026-12-01` → `2026 12 01`):
searching for a part finds it, and searching for the whole finds the parts in that order (the
phrase check on the stored sequence). Han, Hiragana, Katakana and Hangul characters are atoms
of one character each, and each pair of neighbours is indexed too (overlapping bigrams), so any
substring of two or more characters is found without a dictionary.

Terms are stored and searched *encoded* to [0-9a-z] (app/models/search.py): neither FTS5's
tokenizer nor PostgreSQL's parser ever sees a character it could split on or fold again.

This lives with the models (below chat): chat's service indexes a message inside the transaction
that writes it, and the search service, above chat, parses queries with the same functions.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

# Letters no Unicode decomposition takes to a plain Latin letter, folded as people type them.
_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe",
                          "ı": "i", "ħ": "h", "ŧ": "t"})
_CJK = ((0x1100, 0x11FF), (0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3040, 0x30FF), (0x3130, 0x318F),
        (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA960, 0xA97F), (0xAC00, 0xD7FF),
        (0xF900, 0xFAFF), (0x20000, 0x3134F))
_ASCII_ATOM = re.compile(r"[a-z0-9]+")
HYPHENS = {"-", "\u2010", "\u2011"}
WORD, CJK, MARK, SEPARATOR = "w", "c", "m", "s"


class Atom(NamedTuple):
    start: int    # where it is in the text as written (for snippets)
    end: int
    text: str     # normalised
    cjk: bool
    gap: str      # what separated it from the atom before, as written ("" when they touch)


@lru_cache(maxsize=4096)
def _accented_script(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(("LATIN", "GREEK", "CYRILLIC"))


@lru_cache(maxsize=65536)
def fold_char(ch: str) -> str:
    """One character as searched: NFKC, case-folded, without accents on Latin-like letters."""
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", ch).casefold())
    kept, accented = [], False
    for part in text:
        if unicodedata.combining(part):
            if accented:
                continue
        else:
            accented = _accented_script(part)
        kept.append(part)
    return unicodedata.normalize("NFC", "".join(kept)).translate(_LETTERS)


@lru_cache(maxsize=65536)
def kind(ch: str) -> str:
    category = unicodedata.category(ch)
    if category[0] in "LN":
        code = ord(ch)
        return CJK if any(low <= code <= high for low, high in _CJK) else WORD
    if category[0] == "M":
        return MARK
    return SEPARATOR


def atoms(text: str) -> list[Atom]:
    """The text's atoms in order, with where each was written."""
    if text.isascii():  # the common case, ~10× faster: ASCII folds by lower()
        lowered, found, last = text.lower(), [], 0
        for match in _ASCII_ATOM.finditer(lowered):
            found.append(Atom(match.start(), match.end(), match.group(), False, text[last:match.start()]))
            last = match.end()
        return found
    found: list[Atom] = []
    current: list[str] = []
    start = last_end = 0
    accented = False  # the atom's last letter takes its accents off (a decomposed é typed as e + ´)

    def close(end: int) -> None:
        nonlocal current, last_end
        if current:
            found.append(Atom(start, end, "".join(current), False, text[last_end:start]))
            last_end, current = end, []

    for index, ch in enumerate(text):
        folded = fold_char(ch)
        for part in folded:
            what = kind(part)
            if what == WORD:
                if not current:
                    start = index
                current.append(part)
                accented = _accented_script(part)
            elif what == MARK and current:
                if not accented:
                    current.append(part)
            elif what == MARK and found and found[-1].cjk and found[-1].end == index:
                found[-1] = found[-1]._replace(text=found[-1].text + part, end=index + 1)
            elif what == CJK:
                close(index)
                found.append(Atom(index, index + 1, part, True, text[last_end:index]))
                last_end = index + 1
            else:
                close(index)
    close(len(text))
    return found


def bigrams(found: list[Atom]) -> list[str]:
    """Each pair of CJK characters written side by side."""
    return [a.text + b.text for a, b in zip(found, found[1:], strict=False) if a.cjk and b.cjk and not b.gap]


def hyphen_joins(found: list[Atom]) -> list[str]:
    """Words written with hyphens, joined (`e-mail` → `email`), so either spelling finds them."""
    joined, group = [], []
    for atom in [*found, None]:
        if atom is not None and not atom.cjk and group and atom.gap in HYPHENS:
            group.append(atom.text)
            continue
        if 2 <= len(group) <= 4:
            joined.append("".join(group))
        group = [atom.text] if atom is not None and not atom.cjk else []
    return joined


def has_link(text: str) -> bool:
    lowered = text.lower()
    return "http://" in lowered or "https://" in lowered
