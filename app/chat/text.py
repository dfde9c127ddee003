"""Plain text to HTML: escaped, line breaks kept (by CSS), web addresses made links (the `linkify`
filter), and the pieces a message's formatting uses (app/chat/markdown.py renders messages: the
same mention pattern and markup, the same invisible characters taken out of addresses). Nothing a
user types is ever read as HTML, an htmx attribute or template code.

A link shows where it goes, left to right, whatever the text around it does: its address loses
the invisible format characters (the bidi controls among them: a right-to-left override would
show "https://evil.example/moc.elgoog.www//:sptth" as ending in "https://www.google.com", and
zero-width spaces), and it is a left-to-right isolate (<bdi dir="ltr">), so an override written
before it cannot reverse it either. The rest of the text is kept as written, bidi controls
included (right-to-left writing uses them): the message body is a block of its own, where any
embedding or override the text leaves open ends.

Mentions (`@name`, `@everyone`) are found here, where the text's shape is known: never inside
`code` or a ```block``` written with backticks, never inside a web address, never in the middle
of a word (so `a@b.c` is no mention). app/chat/mentions.py decides whom they reach; a message is
rendered with the people it did mention highlighted, the same for every viewer (each carries its
person's id: the viewer's own stylesheet, /mentions/viewer.css, marks "mentions you")."""
from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape

from app.models import usernames

URL = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
TRAILING = ".,;:!?)]}'\""
# Code: a ```fenced``` stretch (over lines), or `inline` between equal runs of backticks on one line.
CODE = re.compile(r"```.*?```|(`+)(?!`)[^\n]*?(?<!`)\1(?!`)", re.DOTALL)
# @ at the start of a word (not after a letter, digit, '.', '_', '-', '@' or '/'), then a name's characters.
MENTION = re.compile(r"(?<![\w.@/\-])@([\w.\-]+)")
EVERYONE = "everyone"


def invisible(ch: str) -> bool:
    """A format character (category Cf): bidi controls, zero-width spaces and joiners, ..."""
    return unicodedata.category(ch) == "Cf"


def mention_tokens(text: str) -> list[tuple[int, int, str]]:
    """Each `@name` outside code and web addresses: (start, end, name), end just after the name
    (a name ends with a letter or digit: "@ada." at the end of a sentence is ada)."""
    hidden = [m.span() for m in CODE.finditer(text)] + [m.span() for m in URL.finditer(text)]
    found = []
    for match in MENTION.finditer(text):
        if any(start <= match.start() < end for start, end in hidden):
            continue
        name = match.group(1).rstrip("._-")
        if name and text[match.end():match.end() + 1] != "@":  # "@ada@example.com" is an address
            found.append((match.start(), match.start() + 1 + len(name), name))
    return found


def mention_key(name: str) -> str:
    """What a mentioned name is looked up by: the username's key (case and width folded)."""
    return usernames.key(name)


def _link(match: re.Match) -> tuple[Markup, int]:
    trimmed = match.group(0)
    while trimmed[-1] in TRAILING or invisible(trimmed[-1]):  # (the scheme always stays)
        trimmed = trimmed[:-1]
    url = "".join(ch for ch in trimmed if not invisible(ch))
    html = Markup('<bdi dir="ltr"><a href="{0}" rel="noopener nofollow ugc" target="_blank">{0}</a></bdi>').format(url)
    return html, match.start() + len(trimmed)


MENTION_HTML = Markup('<span class="mention"{0}>@{1}<span class="mention-you">, mentions you</span></span>')


def linkify(text: str, mentioned: dict[str, int] | None = None) -> Markup:
    """The text as HTML: escaped, web addresses linked, and with `mentioned` (the username keys
    of the people the message mentions -> their ids) each of their @names highlighted, and
    @everyone. Who is "you" is not known here: the page's own stylesheet says (a render serves
    every viewer)."""
    pieces: list[tuple[int, int, object]] = [(m.start(), m.end(), m) for m in URL.finditer(text)]
    if mentioned is not None:
        for start, end, name in mention_tokens(text):
            key = mention_key(name)
            if key == EVERYONE:
                pieces.append((start, end, Markup(MENTION_HTML).format(Markup(' data-everyone=""'), name)))
            elif key in mentioned:
                pieces.append((start, end, MENTION_HTML.format(Markup(' data-user-id="{0}"').format(mentioned[key]),
                                                               name)))
        pieces.sort(key=lambda piece: piece[0])
    out, last = [], 0
    for start, end, piece in pieces:
        out.append(escape(text[last:start]))
        if isinstance(piece, re.Match):
            html, last = _link(piece)
        else:
            html, last = piece, end
        out.append(html)
    out.append(escape(text[last:]))
    return Markup("").join(out)
