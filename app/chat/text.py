"""Message text to HTML: escaped, line breaks kept (by CSS), web addresses made links. Nothing a
user types is ever read as HTML, an htmx attribute or template code.

A link shows where it goes, left to right, whatever the text around it does: its address loses
the invisible format characters (the bidi controls among them: a right-to-left override would
show "https://evil.example/moc.elgoog.www//:sptth" as ending in "https://www.google.com", and
zero-width spaces), and it is a left-to-right isolate (<bdi dir="ltr">), so an override written
before it cannot reverse it either. The rest of the text is kept as written, bidi controls
included (right-to-left writing uses them): the message body is a block of its own, where any
embedding or override the text leaves open ends."""
from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape

URL = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
TRAILING = ".,;:!?)]}'\""


def _invisible(ch: str) -> bool:
    """A format character (category Cf): bidi controls, zero-width spaces and joiners, ..."""
    return unicodedata.category(ch) == "Cf"


def linkify(text: str) -> Markup:
    out, last = [], 0
    for match in URL.finditer(text):
        trimmed = match.group(0)
        while trimmed[-1] in TRAILING or _invisible(trimmed[-1]):  # (the scheme always stays)
            trimmed = trimmed[:-1]
        url = "".join(ch for ch in trimmed if not _invisible(ch))
        out.append(escape(text[last:match.start()]))
        out.append(Markup(
            '<bdi dir="ltr"><a href="{0}" rel="noopener nofollow ugc" target="_blank">{0}</a></bdi>'
        ).format(url))
        last = match.start() + len(trimmed)
    out.append(escape(text[last:]))
    return Markup("").join(out)
