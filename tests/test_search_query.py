"""The search query parser (app/search/query.py) and the normaliser (app/models/search_text.py),
pure Python: what a query means, what text becomes, and that nothing typed makes either raise."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.models import search, search_text
from app.search import plan as plans
from app.search.query import Query, parse


@pytest.mark.parametrize(("q", "understood"), [
    ("deploy the app", Query(words=("deploy", "the"), prefix="app")),
    ("deploy the app ", Query(words=("deploy", "the", "app"))),
    ('"exact phrase" more', Query(phrases=("exact phrase",), prefix="more")),
    ('"unclosed phrase', Query(phrases=("unclosed phrase",))),
    ('-word -"a phrase" x ', Query(words=("x",), excluded=("word", '"a phrase"'))),
    ("from:alice from:@bob x ", Query(words=("x",), from_=("alice", "bob"))),
    ("in:#general in:@bob in:random x ", Query(words=("x",), in_=("#general", "@bob", "#random"))),
    ("before:2026-12-01 after:2026-11-01 x ", Query(words=("x",), before=dt.date(2026, 12, 1),
                                                     after=dt.date(2026, 11, 1))),
    ("before:2026-02-30 before:tomorrow x ", Query(words=("before:2026-02-30", "before:tomorrow", "x"))),
    ("has:link has:image x ", Query(words=("has:image", "x"), has_link=True)),
    ("FROM:alice HAS:LINK", Query(from_=("alice",), has_link=True)),
    ("AND OR NOT NEAR( * ^ ( )", Query(words=("AND", "OR", "NOT", "NEAR(", "*", "^", "(", ")"))),
    ("x d", Query(words=("x", "d"))),          # a one-letter word is not a prefix
    ("東京", Query(words=("東京",))),             # CJK is found by bigrams, not prefixes
    ("- x ", Query(words=("-", "x"))),
    ("from: x ", Query(words=("from:", "x"))),
    ("", Query()),
])
def test_what_a_query_means(q, understood):
    assert parse(q) == understood


def test_only_the_first_2000_characters_are_read():
    query = parse("ab " * 1000 + "tail")
    assert (len(query.words), query.prefix) == (666, "ab")


@pytest.mark.parametrize(("q", "searchable"), [
    ("", False), ("   ", False), ("* ^ ( )", False), ("-word", False), ('-"a b"', False),
    ("word", True), ("from:alice", True), ("has:link", True), ("in:#general", True),
])
def test_what_counts_as_something_to_search_for(q, searchable):
    assert parse(q).searchable is searchable


@hypothesis_settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=st.sampled_from('"-:*^() aé東\x00\ud800#@'), max_size=60),
                 st.lists(st.sampled_from(["from:", "in:#", "in:@", "before:", "after:2026-01-01", "has:link",
                                           '"', "-", "AND", "NEAR(", "\ud83d", "😀", "\x00"]),
                          max_size=10).map("".join)))
def test_any_text_parses_and_plans_without_raising(q):
    query = parse(q)
    plan = plans.plan(query)
    for term, _ in plan.terms:
        assert term and set(term) <= set("abcdefghijklmnopqrstuvwxyz0123456789")
    for pattern in plan.patterns + plan.not_patterns:
        assert set(pattern) <= set("abcdefghijklmnopqrstuvwxyz0123456789 %")


@pytest.mark.parametrize(("text", "atoms"), [
    ("Café CAFÉ cafe\u0301", ["cafe", "cafe", "cafe"]),
    ("ＦＵＬＬ ｗｉｄｔｈ １２３", ["full", "width", "123"]),
    ("sess.opts", ["sess", "opts"]),
    ("https://example.com/foo-bar?x=1", ["https", "example", "com", "foo", "bar", "x", "1"]),
    ("2026-12-01", ["2026", "12", "01"]),
    ("Straße Øre Æble", ["strasse", "ore", "aeble"]),
    ("東京大学", ["東", "京", "大", "学"]),
    ("がぎ", ["が", "ぎ"]),            # Japanese voicing marks are not accents
    ("Привет, мир ёж", ["привет", "мир", "еж"]),
    ("\x00\ud800😀", []),
])
def test_what_text_becomes(text, atoms):
    assert [atom.text for atom in search_text.atoms(text)] == atoms


def test_terms_keep_their_order_then_the_extras():
    assert search.terms("e-mail 東京 https://x.io") == " ".join(
        ["e", "mail", search.encode("東"), search.encode("京"), "https", "x", "io", "q",
         search.encode("東京"), "email", search.LINK])


def test_encoded_terms_are_letters_and_digits_and_keep_prefixes():
    for term in ["deploy", "quick", "東京", "café", "ёж", "q"]:
        encoded = search.encode(term)
        assert set(encoded) <= set("abcdefghijklmnopqrstuvwxyz0123456789")
        assert encoded != search.SEPARATOR and not encoded.startswith("qzzzz")
        assert all(encoded.startswith(search.encode(term[:n])) for n in range(len(term)))


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_the_ascii_shortcut_makes_the_same_terms(body):
    assert search.terms(body) == search._terms(body)
