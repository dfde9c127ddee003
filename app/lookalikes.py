"""Text that looks like other text (Unicode Technical Standard #39, "Unicode Security Mechanisms"):
the skeleton that two names share when they look alike, the scripts a word is written in, and
the invisible controls that reorder text on screen.

The data is Unicode's own, vendored unchanged in app/unicode/ with its version in each file name
and its licence (LICENSE-Unicode-3.0.txt), read on first use: confusables.txt from UTS #39, and
Scripts.txt, ScriptExtensions.txt and PropertyValueAliases.txt from the Unicode Character
Database. The maintained Python libraries either compute no skeleton (confusable-homoglyphs,
confusables) or need a compiler and a system ICU to install (PyICU), so the skeleton is the
standard's three steps written out below."""
from __future__ import annotations

import bisect
import re
import unicodedata
from functools import cache
from pathlib import Path

UNICODE_VERSION = "17.0.0"
DATA = Path(__file__).resolve().parent / "unicode"

# Controls that reorder or isolate text for display (Bidi_Control): a right-to-left override
# shows "moc.elgoog" as "google.com". ALM (U+061C), LRM and RLM (U+200E-U+200F), the embeddings
# and overrides (U+202A-U+202E) and the isolates (U+2066-U+2069).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BIDI_RE = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")

# A combining dot above after a letter that has a dot already (i, j) shows nothing more: the
# Turkish İ case-folds to i + U+0307, which then reads as plain i.
_REDUNDANT_DOT = re.compile("(?<=[ij])\u0307+")

# Scripts used together by one writing system (UTS #39, 5.1 "augmented script sets"): Japanese
# mixes Han, Hiragana and Katakana; Korean Han and Hangul; Chinese Han and Bopomofo.
_AUGMENTED = {
    "Hani": {"Hanb", "Jpan", "Kore"},
    "Hira": {"Jpan"},
    "Kana": {"Jpan"},
    "Hang": {"Kore"},
    "Bopo": {"Hanb"},
}
# Common and Inherited: at home in every script (digits, punctuation, combining marks).
COMMON = frozenset({"Zyyy", "Zinh"})
# No letter's or digit's skeleton is longer than this (a Hangul syllable, decomposed into its
# jamo; tests/test_lookalikes.py checks every one), so a column for a name of n characters'
# skeleton needs n * SKELETON_GROWTH.
SKELETON_GROWTH = 7


def _lines(name: str):
    """The data lines of a Unicode data file: its fields, comments and blank lines dropped."""
    for line in (DATA / f"{name}-{UNICODE_VERSION}.txt").read_text(encoding="utf-8-sig").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            yield [field.strip() for field in line.split(";")]


@cache
def _prototypes() -> dict[str, str]:
    """confusables.txt: each confusable character and the prototype it is mapped to."""
    return {chr(int(source, 16)): "".join(chr(int(cp, 16)) for cp in target.split())
            for source, target, *_ in _lines("confusables")}


def _ranges(rows) -> tuple[list[int], list[int], list[frozenset[str]]]:
    """Sorted code point ranges: their starts, their ends and each one's scripts."""
    rows = sorted(rows)
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


@cache
def _script_tables():
    """Script_Extensions where the data gives them, else Script: ranges of short names ("Latn")."""
    short = {long: code for prop, code, long, *_ in _lines("PropertyValueAliases") if prop == "sc"}
    tables = []
    for name, names in (("ScriptExtensions", str.split), ("Scripts", lambda script: [short[script]])):
        rows = []
        for field, value in _lines(name):
            first, _, last = field.partition("..")
            rows.append((int(first, 16), int(last or first, 16), frozenset(names(value))))
        tables.append(_ranges(rows))
    return tables


def scripts_of(ch: str) -> frozenset[str]:
    """The character's Script_Extensions as ISO 15924 codes ("Latn", "Cyrl", "Zyyy" for Common),
    "Zzzz" (unknown) for an unassigned one."""
    cp = ord(ch)
    for starts, ends, values in _script_tables():
        at = bisect.bisect_right(starts, cp) - 1
        if at >= 0 and cp <= ends[at]:
            return values[at]
    return frozenset({"Zzzz"})


def resolved_scripts(text: str) -> frozenset[str] | None:
    """The scripts every character of text could belong to (UTS #39 resolved script set, with
    augmented sets: Japanese may mix Han, Hiragana and Katakana). None stands for "any": text
    of digits, punctuation and other Common characters only. Empty: mixed scripts."""
    resolved: set[str] | None = None
    for ch in text:
        scripts = scripts_of(ch)
        if scripts <= COMMON:
            continue
        augmented = set(scripts).union(*(_AUGMENTED.get(s, ()) for s in scripts))
        resolved = augmented if resolved is None else resolved & augmented
    return None if resolved is None else frozenset(resolved)


def mixed_scripts(text: str) -> bool:
    """True if no one script (or writing system) has every letter: "pаypal" with a Cyrillic а."""
    return resolved_scripts(text) == frozenset()


def skeleton(text: str) -> str:
    """The UTS #39 skeleton: NFD, each character replaced by its prototype, NFD again. Two
    strings with the same skeleton are confusable ("paypaI" and "paypal")."""
    prototypes = _prototypes()
    mapped = "".join(prototypes.get(ch, ch) for ch in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


def fold(text: str) -> str:
    """NFKC, full Unicode case folding, NFKC again (Unicode's NFKC_Casefold, less its removal of
    default-ignorable characters, which names refuse anyway): "ＡＬＩＣＥ" and "Alice" are "alice";
    "STRASSE" and "straße" are "strasse"."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def folded_skeleton(text: str) -> str:
    """What look-alike names share whatever their case: the skeleton of the case-folded name.
    "аӏісе" (Cyrillic), "ALİCE" (a Turkish dotted İ) and "alice" share one."""
    return _REDUNDANT_DOT.sub("", skeleton(fold(text)))


def shown_skeleton(text: str) -> str:
    """What look-alike names share as they are shown, case and all: "aIice" (a capital I) and
    "alice" share one, which folding first would miss (it reads the I as an i)."""
    return skeleton(unicodedata.normalize("NFKC", text))


def strip_bidi(text: str) -> str:
    """text without its bidirectional controls."""
    return _BIDI_RE.sub("", text)
