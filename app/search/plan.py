"""A parsed query as the database is asked it: encoded terms (words, each atom of a phrase, CJK
bigrams, has:link; the word being typed as a prefix), LIKE patterns for phrases and exclusions
on the stored sequence of atoms, and the atoms to highlight."""
from __future__ import annotations

from dataclasses import dataclass, field

from app.models import search_text
from app.models.search import LINK, encode
from app.search.query import Query


@dataclass
class Plan:
    """The query as the database is asked it."""
    terms: list[tuple[str, bool]] = field(default_factory=list)       # (encoded term, is a prefix)
    patterns: list[str] = field(default_factory=list)                 # LIKE: must be there
    not_patterns: list[str] = field(default_factory=list)             # LIKE: must not be there
    marks: list[tuple[list[str], bool]] = field(default_factory=list)  # atoms to highlight, last a prefix


def _pattern(texts: list[str], prefix: bool) -> str:
    return "% " + " ".join(texts) + ("%" if prefix else " %")


def plan(query: Query) -> Plan:
    plan = Plan()
    for text in [*query.words, *query.phrases, *([query.prefix] if query.prefix else [])]:
        prefix = text is query.prefix
        found = search_text.atoms(text)
        if not found:
            continue
        encoded = [encode(atom.text) for atom in found]
        for i, atom in enumerate(found):
            if atom.cjk:
                after = found[i + 1] if i + 1 < len(found) else None
                if after is not None and after.cjk and not after.gap:
                    plan.terms.append((encode(atom.text + after.text), False))  # its bigram
                elif i == 0 or not found[i - 1].cjk or found[i].gap:
                    plan.terms.append((encoded[i], False))  # a character on its own
            else:
                plan.terms.append((encoded[i], prefix and i == len(found) - 1))
        if len(found) > 1:  # several atoms: in this order, side by side
            plan.patterns.append(_pattern(encoded, prefix))
        if (marks := ([atom.text for atom in found], prefix)) not in plan.marks:
            plan.marks.append(marks)
    for text in query.excluded:
        found = search_text.atoms(text.strip('"') if text.startswith('"') else text)
        if found:
            plan.not_patterns.append(_pattern([encode(atom.text) for atom in found], False))
    if query.has_link:
        plan.terms.append((LINK, False))
    plan.terms = list(dict.fromkeys(plan.terms))
    return plan
