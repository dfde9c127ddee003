"""Username rules: 3-30 letters, digits, '.', '_' or '-', and nothing that can impersonate. They
live with the models: User's unique key is one of them (key())."""
from __future__ import annotations

import unicodedata

MIN_LENGTH = 3
MAX_LENGTH = 30
_PUNCTUATION = set("._-")


def normalize(raw: str) -> str:
    """NFKC folds full-width and other compatibility forms onto their plain letters."""
    return unicodedata.normalize("NFKC", raw.strip())


def key(username: str) -> str:
    """What must be unique: the normalised, case-folded name."""
    return normalize(username).casefold()


def _script(ch: str) -> str:
    # The first word of a letter's Unicode name is its script: LATIN, CYRILLIC, GREEK, ...
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def problem(username: str) -> str | None:
    """Why this (already normalised) username is not acceptable, or None."""
    if not MIN_LENGTH <= len(username) <= MAX_LENGTH:
        return f"Use {MIN_LENGTH} to {MAX_LENGTH} characters."
    scripts = set()
    for ch in username:
        if ch in _PUNCTUATION or ch.isascii() and ch.isdigit():
            continue
        category = unicodedata.category(ch)
        if not category.startswith("L"):
            # Spaces, zero-width and bidi controls (Cf), combining marks, symbols, foreign digits.
            return "Use only letters, digits, '.', '_' and '-'."
        scripts.add(_script(ch))
    if len(scripts) > 1:
        # Mixed scripts are how "pаypal" (with a Cyrillic а) impersonates "paypal".
        return "Use letters from one alphabet only."
    if username[0] in _PUNCTUATION or username[-1] in _PUNCTUATION:
        return "Start and end with a letter or digit."
    return None
