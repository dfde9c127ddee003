"""What a link preview reads (app/links/page.py): the first link of a message, as the reader sees
it linked, and what an HTML page says of itself, as plain text."""
from __future__ import annotations

import pytest

from app.links.page import DESCRIPTION_MAX, SITE_MAX, TITLE_MAX, first_link, parse

URL = "https://news.example/articles/1"


@pytest.mark.parametrize(("text", "link"), [
    ("look at https://example.com/a?b=1, then", "https://example.com/a?b=1"),
    ("see www.example.com/x.", "http://www.example.com/x"),
    ("[the docs](https://docs.example/p) and https://later.example", "https://docs.example/p"),
    ("`https://code.example` then http://after.example", "http://after.example"),
    ("```\nhttps://block.example\n```\nhttps://after.example/", "https://after.example/"),
    ("mail ada@example.com or mailto:ada@example.com, then https://web.example", "https://web.example"),
    ("README.md and app.py, then https://web.example", "https://web.example"),
    ("<https://angle.example/x>", "https://angle.example/x"),
    ("> quoted https://quoted.example", "https://quoted.example"),
    (f"https://long.example/{'x' * 2048} then https://short.example", "https://short.example"),
    ("no link here", None),
    ("`https://only.code.example`", None),
    ("[a javascript link](javascript:alert(1)) ftp://files.example", None),
    ("mailto:ada@example.com", None),
])
def test_first_link_is_the_first_web_address_the_reader_sees_linked(text, link):
    assert first_link(text) == link


def test_a_page_keeps_its_open_graph_before_twitter_before_plain_tags():
    html = (b'<html><head><title>Plain</title><meta name="twitter:title" content="Twitter">'
            b'<meta property="og:title" content="Open Graph"><meta name="description" content="Plain words">'
            b'<meta name="twitter:image" content="https://cdn.example/t.png"></head><body>')
    page = parse(html, URL)
    assert (page.title, page.description, page.site, page.image_url) == (
        "Open Graph", "Plain words", "news.example", "https://cdn.example/t.png")
    assert parse(b'<head><title>Plain</title><meta name="twitter:title" content="Twitter">', URL).title == "Twitter"


def test_what_a_page_says_comes_out_as_plain_text():
    html = ('<head><title>  Tom &amp; Jerry\n\n <b>return</b> &#x263A; </title>'
            '<meta property="og:description" content="&lt;script&gt;alert(1)&lt;/script&gt; \x07 bell\t\ttab">'
            '<meta property="og:site_name" content=" The\u200b \u202eSite\u202c \U0001f468\u200d\U0001f469">').encode()
    page = parse(html, URL)
    assert page.title == "Tom & Jerry return \u263a"
    assert page.description == "<script>alert(1)</script> bell tab"  # text: the template escapes it
    assert page.site == "The Site \U0001f468\u200d\U0001f469"


def test_long_values_are_cut_to_what_the_columns_hold():
    html = (f'<head><meta property="og:title" content="{"t" * 1000}">'
            f'<meta property="og:description" content="{"d " * 1000}">'
            f'<meta property="og:site_name" content="{"s" * 1000}">').encode()
    page = parse(html, URL)
    assert (len(page.title), len(page.description), len(page.site)) == (TITLE_MAX, DESCRIPTION_MAX, SITE_MAX)
    assert page.title.endswith("…")


@pytest.mark.parametrize(("image", "expected"), [
    ("/img/card.png", "https://news.example/img/card.png"),
    ("card.png", "https://news.example/articles/card.png"),
    ("//cdn.example/c.png", "https://cdn.example/c.png"),
    ("http://cdn.example/c.png", "http://cdn.example/c.png"),
    ("javascript:alert(1)", None), (" JavaScript:alert(1)", None), ("data:image/png;base64,AAAA", None),
    ("file:///etc/passwd", None), ("ftp://files.example/c.png", None), ("", None), ("http://", None),
])
def test_the_image_is_made_absolute_and_kept_only_if_it_is_a_web_address(image, expected):
    assert parse(f'<head><meta property="og:image" content="{image}">'.encode(), URL).image_url == expected


def test_the_image_is_resolved_against_the_pages_base():
    html = b'<head><base href="https://static.example/assets/"><meta property="og:image" content="c.png">'
    assert parse(html, URL).image_url == "https://static.example/assets/c.png"


@pytest.mark.parametrize(("html", "declared", "title"), [
    ("<title>Caf\u00e9</title>".encode("latin-1"), "iso-8859-1", "Caf\u00e9"),
    ('<meta charset="windows-1251"><title>\u041f\u0440\u0438\u0432\u0435\u0442</title>'.encode("cp1251"), None,
     "\u041f\u0440\u0438\u0432\u0435\u0442"),
    ('<meta http-equiv="Content-Type" content="text/html; charset=shift_jis"><title>\u65e5\u672c</title>'.encode(
        "shift_jis"), None, "\u65e5\u672c"),
    ("<title>\u65e5\u672c</title>".encode(), None, "\u65e5\u672c"),  # UTF-8 when nothing is said
    ("<title>Caf\u00e9</title>".encode(), "no-such-charset", "Caf\u00e9"),
    (b"\xef\xbb\xbf<title>BOM</title>", "iso-8859-1", "BOM"),
    ("<title>\u20ac</title>".encode("cp1252"), "iso-8859-1", "\u20ac"),  # Latin-1 read as windows-1252
    ("<title>\u00e9 \\u0041 +AGE-</title>".encode(), "unicode_escape", "\u00e9 \\u0041 +AGE-"),  # not the web's
    ("<title>\u00e9</title>".encode(), "rot13", "\u00e9"), ("<title>\u00e9</title>".encode(), "undefined", "\u00e9"),
    ("<title>\u00e9</title>".encode(), "idna", "\u00e9"), ("<title>\u00e9</title>".encode(), "utf-7", "\u00e9"),
])
def test_the_charset_comes_from_the_header_or_the_meta_tag(html, declared, title):
    assert parse(html, URL, declared_charset=declared).title == title


def test_the_head_ends_where_the_body_begins():
    html = (b'<head><title>Head</title><script>var s = "<meta property=\'og:title\' content=\'script\'>";</script>'
            b'<!-- <meta property="og:description" content="comment"> --></head>'
            b'<body><meta property="og:description" content="in the body"><title>Body</title>')
    page = parse(html, URL)
    assert (page.title, page.description) == ("Head", None)
    assert parse(b'<title>No head tags</title><div><meta name="description" content="body">', URL).description is None


@pytest.mark.parametrize("junk", [b"<a" * 500_000, b"</" * 500_000, b"<" * 1_000_000, b"<!--" + b"x" * 1_000_000,
                                  b"<meta content='" + b"x" * 1_000_000, b"<head>" + b"<meta a=b>" * 100_000])
def test_a_megabyte_of_broken_markup_is_read_in_one_pass(junk):
    """html.parser takes many minutes on the first (quadratic): the hand-made reader is done in
    about a second, and finds nothing to show."""
    page = parse(junk, URL, complete=False)
    assert page is None or (page.title, page.description, page.image_url) == (None, None, None)


def test_a_cut_page_without_any_html_is_not_a_page():
    assert parse(b"x" * 1000, URL, complete=False) is None
    assert parse(b"x" * 1000, URL).title is None  # whole: a page that says nothing
