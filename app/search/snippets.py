"""Snippets: a message body, escaped, cut around its first match, the searched words in <mark>,
found with the same atoms the index holds (app/models/search_text.py)."""
from __future__ import annotations

from markupsafe import Markup, escape

from app.models import search_text

SNIPPET = 200          # characters of body around the first match
SNIPPET_BEFORE = 60    # of which this many before it, when there are


def _marked(body: str, marks: list[tuple[list[str], bool]]) -> list[tuple[int, int]]:
    """Where in body the searched words are, as written: (start, end), merged, in order."""
    found = search_text.atoms(body)
    texts = [atom.text for atom in found]
    spans = []
    for wanted, prefix in marks:
        n = len(wanted)
        for i in range(len(texts) - n + 1):
            if texts[i:i + n - 1] != wanted[:-1]:
                continue
            last = texts[i + n - 1]
            if last == wanted[-1] or (prefix and last.startswith(wanted[-1])):
                spans.append((found[i].start, found[i + n - 1].end))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(body: str, marks: list[tuple[list[str], bool]]) -> Markup:
    """The body, escaped, about SNIPPET characters around its first match, matches in <mark>."""
    spans = _marked(body, marks)
    start = 0
    if spans and spans[0][0] > SNIPPET_BEFORE and len(body) > SNIPPET:
        start = spans[0][0] - SNIPPET_BEFORE
        while start > 0 and not body[start - 1].isspace() and spans[0][0] - start < SNIPPET_BEFORE + 20:
            start -= 1  # not in the middle of a word
        start = max(0, min(start, len(body) - SNIPPET))
    end = min(len(body), start + SNIPPET)
    while end < len(body) and not body[end].isspace() and end - start < SNIPPET + 20:
        end += 1
    out, at = [Markup("…")] if start else [], start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        out.append(escape(body[at:span_start]))
        out.append(Markup("<mark>{}</mark>").format(body[span_start:span_end]))
        at = span_end
    out.append(escape(body[at:end]))
    if end < len(body):
        out.append(Markup("…"))
    return Markup("").join(out)
