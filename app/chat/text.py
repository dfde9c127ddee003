"""Message text to HTML: escaped, line breaks kept (by CSS), web addresses made links. Nothing a
user types is ever read as HTML, an htmx attribute or template code."""
from __future__ import annotations

import re

from markupsafe import Markup, escape

URL = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
TRAILING = ".,;:!?)]}'\""


def linkify(text: str) -> Markup:
    out, last = [], 0
    for match in URL.finditer(text):
        url = match.group(0)
        trimmed = url.rstrip(TRAILING)
        end = match.start() + len(trimmed)
        out.append(escape(text[last:match.start()]))
        out.append(Markup('<a href="{0}" rel="noopener nofollow ugc" target="_blank">{0}</a>').format(trimmed))
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)
