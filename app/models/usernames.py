"""Username rules: 3-30 letters, digits, '.', '_' or '-', and nothing that can impersonate. They
live with the models: User's unique columns are made here (key() and skeletons())."""
from __future__ import annotations

import unicodedata

from app import lookalikes

MIN_LENGTH = 3
MAX_LENGTH = 30
DISPLAY_NAME_MAX = 64
# The longest skeleton a name can have (app/lookalikes.py: a character's is at most 7 long).
SKELETON_MAX_LENGTH = MAX_LENGTH * lookalikes.SKELETON_GROWTH
_PUNCTUATION = set("._-")
TOO_CLOSE = "That username looks too much like an existing one: choose another."
# Words a message gives a meaning of their own after "@" (app/chat/mentions.py): no account is
# named like them, or looks like them, so "@everyone" can never mean one person.
RESERVED = ("everyone",)
RESERVED_NAME = "“{name}” is reserved: @{name} mentions every member of a conversation. Choose another."


def normalize(raw: str) -> str:
    """NFKC folds full-width and other compatibility forms onto their plain letters."""
    return unicodedata.normalize("NFKC", raw.strip())


def key(username: str) -> str:
    """What must be unique: the normalised, case-folded name (full Unicode case folding)."""
    return normalize(username).casefold()


def skeletons(username: str) -> tuple[str, str]:
    """What must be unique too, so that no name looks like another (Unicode TR39 skeletons): the
    case-folded name's ("аӏісе" in Cyrillic, "ALİCE" and "alice" share it) and the name's as shown
    ("aIice" with a capital I and "alice" share that one)."""
    return lookalikes.folded_skeleton(username), lookalikes.shown_skeleton(username)


def problem(username: str) -> str | None:
    """Why this (already normalised) username is not acceptable, or None."""
    if not MIN_LENGTH <= len(username) <= MAX_LENGTH:
        return f"Use {MIN_LENGTH} to {MAX_LENGTH} characters."
    for ch in username:
        if ch in _PUNCTUATION or ch.isascii() and ch.isdigit():
            continue
        if not unicodedata.category(ch).startswith("L") or lookalikes.scripts_of(ch) <= lookalikes.COMMON:
            # Spaces, zero-width and bidi controls (Cf), combining marks, symbols, foreign digits,
            # and the letters of no script (modifier letters like ʹ and ˈ, which read as marks).
            return "Use only letters, digits, '.', '_' and '-'."
    if lookalikes.mixed_scripts(username):
        # Mixed scripts are how "pаypal" (with a Cyrillic а) impersonates "paypal". Japanese may
        # mix Han, Hiragana and Katakana, Korean Han and Hangul (app/lookalikes.py).
        return "Use letters from one alphabet only."
    if username[0] in _PUNCTUATION or username[-1] in _PUNCTUATION:
        return "Start and end with a letter or digit."
    folded = lookalikes.folded_skeleton(username)
    for word in RESERVED:
        if folded == lookalikes.folded_skeleton(word):
            return RESERVED_NAME.format(name=word)
    return None
