"""Reading pages the way a person does: the text, not the markup."""
from __future__ import annotations

import re


def text_of(html: str) -> str:
    """Visible text, roughly: tags dropped, whitespace folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def fact(html: str, label: str) -> str:
    """The visible value beside a label in a <dl>: fact(page, "Joined") -> "3 Mar 2026"."""
    match = re.search(rf"<dt>{re.escape(label)}</dt>\s*<dd>(.*?)</dd>", html, re.S)
    assert match, f"no {label!r} on the page"
    return text_of(match.group(1))


def toast(response) -> str | None:
    """The confirmation an htmx answer asks the page to show (HX-Trigger huddle:toast), if any."""
    import json

    header = response.headers.get("HX-Trigger")
    return json.loads(header)["huddle:toast"]["message"] if header else None


def attributes(html: str) -> set[tuple[str, str | None]]:
    """Every (name, value) that some element of the page carries: what a browser (and htmx) reads,
    never the text (`&lt;b hx-get="/x"&gt;` written in a message is words, not an attribute)."""
    from html.parser import HTMLParser

    found: set[tuple[str, str | None]] = set()

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.update(attrs)

    Reader().feed(html)
    return found
