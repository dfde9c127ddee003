"""Formatting (app/chat/markdown.py): each construct, then the hostile family (links to scripts in
every Markdown form, raw HTML, htmx attributes, template code, images, deep nesting), mentions
never in code, and the doors: the page, the edit form, programs' `html`, the render cache's key."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from app.chat import allowed, markdown
from app.chat import service as chat
from app.chat.markdown import mention_names, render
from tests.helpers.api import api_login
from tests.helpers.html import attributes, text_of

REL = 'target="_blank" rel="noopener noreferrer nofollow ugc"'


def html(text: str, mentioned: dict[str, int] | None = None) -> str:
    return str(render(text, mentioned))


class Shape(HTMLParser):
    """The tags and attributes of a fragment, and whether every tag opened was closed."""

    VOID = {"br", "hr"}

    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str, str | None]] = []
        self.open: list[str] = []
        self.feed(fragment)

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += [(tag, name, value) for name, value in attrs]
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing open"


def assert_safe(fragment: str) -> Shape:
    shape = Shape(fragment)
    assert shape.tags <= allowed.TAGS and not shape.open
    for tag, name, value in shape.attrs:
        assert not name.startswith(("on", "hx-", "data-hx", "style", "src", "formaction")), (tag, name)
        if name == "href":
            assert value.startswith(("https://", "http://", "mailto:")), value
    return shape


# --- each construct ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("**bold** and __bold__", "<p><strong>bold</strong> and <strong>bold</strong></p>"),
    ("_italic_ and *italic*", "<p><em>italic</em> and <em>italic</em></p>"),
    ("~~strike~~", "<p><s>strike</s></p>"),
    ("`a <b> & c`", "<p><code>a &lt;b&gt; &amp; c</code></p>"),
    ("> quoted\n> more", "<blockquote><p>quoted\nmore</p></blockquote>"),
    ("- one\n- two", "<ul><li>one</li><li>two</li></ul>"),
    ("3. three\n4. four", '<ol start="3"><li>three</li><li>four</li></ol>'),
    ("line one\nline two  \nthree\\\nfour", "<p>line one\nline two\nthree\nfour</p>"),  # as typed (pre-wrap)
    ("if x:\n    y()\n\tz  z", "<p>if x:\n    y()\n\tz  z</p>"),  # spaces as typed
    ("# A heading\n## and another", "<p><strong>A heading</strong></p><p><strong>and another</strong></p>"),
    ("    four spaces are not code", "<p>four spaces are not code</p>"),
    ("a\n\n---\n\nb", "<p>a</p><hr><p>b</p>"),
])
def test_each_construct(text, expected):
    assert html(text).strip() == expected


def test_a_table_keeps_no_inline_style():
    out = html("| a | b |\n|--:|:-:|\n| 1 | 2 |")
    assert "<table>" in out and "<td>1</td>" in out and "style" not in out  # the CSP allows no inline style


def test_a_fenced_block_is_highlighted_by_classes_with_a_hidden_copy_button():
    out = html('```python\ndef f(x):\n    return "<b>"  # hi\n```')
    assert out.startswith('<div class="code-block" data-code=""><pre tabindex="0"><code>')
    assert '<span class="k">def</span>' in out and '<span class="c1"># hi</span>' in out
    assert "&lt;b&gt;" in out and "style=" not in out
    assert '<button type="button" class="copy-code" data-copy-code="" hidden="">Copy code</button>' in out
    assert "def f(x):\n    return" in re.sub(r"<[^>]+>", "", out)  # indentation kept for pre


@pytest.mark.parametrize("info", ["", "no-such-language", "<script>", 'python" onload="x', "x" * 200])
def test_a_block_in_an_unknown_language_is_plain_escaped_text(info):
    out = html(f"```{info}\n<i>x</i>\n```")
    assert "<pre tabindex=\"0\"><code>&lt;i&gt;x&lt;/i&gt;</code></pre>" in out
    assert_safe(out)


def test_links_say_where_they_go():
    out = html("[the docs](https://example.com/docs) and [mail me](mailto:ada@example.com)")
    assert f'<a href="https://example.com/docs" {REL}>the docs</a>' in out
    assert '<span class="link-host"> (<bdi dir="ltr">example.com</bdi>)</span>' in out
    assert '(<bdi dir="ltr">ada@example.com</bdi>)' in out


@pytest.mark.parametrize("text, href", [
    ("see https://example.com/a?b=1&c=2.", "https://example.com/a?b=1&amp;c=2"),
    ("see www.example.de, ok", "http://www.example.de"),
    ("write to ada@example.com", "mailto:ada@example.com"),
    ("<https://example.org/x>", "https://example.org/x"),
    ("example.com/path", "http://example.com/path"),
])
def test_bare_addresses_are_links_isolated_left_to_right(text, href):
    assert f'<bdi dir="ltr"><a href="{href}" {REL}>' in html(text)


@pytest.mark.parametrize("text", ["see README.md and app.py", "run setup.sh", "a@b"])
def test_file_names_are_not_web_sites(text):
    assert "<a " not in html(text)


def test_a_link_loses_invisible_characters_and_shows_left_to_right():
    out = html("look: https://evil.example/\u202emoc.elgoog.www//:sptth ok [x](https://a.example/\u200bb)")
    assert "\u202e" not in out and "\u200b" not in out
    assert f'<bdi dir="ltr"><a href="https://evil.example/moc.elgoog.www//:sptth" {REL}>' in out
    assert 'href="https://a.example/b"' in out


@pytest.mark.parametrize("text", ["![a cat](https://cats.example/c.png)", "![a cat][c]\n\n[c]: https://cats.example/c.png",
                                  "[![a cat](https://cats.example/c.png)](https://cats.example)"])
def test_an_image_is_a_link_named_by_its_words_never_fetched(text):
    out = html(text)
    assert "<img" not in out and "a cat</a>" in out and "cats.example" in out
    assert out.count("<a ") == 1  # a picture inside a link is its words, not a link in a link


# --- the hostile family -----------------------------------------------------------------------------

SCRIPTS = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "jav&#x61;script:alert(1)", "&#106;avascript:alert(1)",
           "javascript&colon;alert(1)", "java%0ascript:alert(1)", "\u202ejavascript:alert(1)",
           "java\u200bscript:alert(1)", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
           "vbscript:msgbox(1)", "file:///etc/passwd", "//evil.example/x", "/chat/1", "#top"]
FORMS = ["[x]({url})", "[x]( {url} )", "[x](<{url}>)", '[x]({url} "title")', "[x][r]\n\n[r]: {url}",
         "[x]\n\n[x]: <{url}>", "<{url}>", "![x]({url})", "![x][r]\n\n[r]: {url}", "{url}"]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("url", SCRIPTS)
def test_no_link_leaves_the_web_or_mail_whatever_its_form(form, url):
    out = html(form.format(url=url))
    shape = assert_safe(out)
    assert not [value for _, name, value in shape.attrs if name == "href"]  # none of these is a web address


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)><circle/></svg>",
    "<iframe src=https://evil.example></iframe>", '<a href="https://x.example" onclick="alert(1)">x</a>',
    "<style>body{display:none}</style>", "<div>\n<script>alert(1)</script>\n</div>", "<!-- a comment -->",
    '<b hx-get="/x" hx-trigger="load">x</b>', '<div hx-post="/chat/1/messages" data-hx-get="/x">x</div>',
    '[x](https://a.example "t" onmouseover=alert(1))', "[x](https://a.example){: onclick=alert(1)}",
    '<form action="/logout"><button>x</button></form>', "<details open ontoggle=alert(1)>",
    "```\n</code></pre><script>alert(1)</script>\n```", "`</code><script>alert(1)</script>`",
])
def test_raw_html_and_htmx_attributes_are_only_words(text):
    out = html(text)
    shape = assert_safe(out)
    assert shape.tags <= {"p", "code", "pre", "div", "button", "a", "bdi", "span", "br"}
    assert ("hx-get", "/x") not in attributes(out)
    assert "<script" not in out and "<img" not in out and "<svg" not in out and "<form" not in out


def test_template_code_stays_text():
    assert html("{{ 7*7 }} {% if true %}x{% endif %} {# c #}") == "<p>{{ 7*7 }} {% if true %}x{% endif %} {# c #}</p>"


@pytest.mark.parametrize("text", [
    "*" * 4000, "*a " * 1333, "_a_" * 1333, "[" * 4000, "[](" * 1333, ">" * 4000, "> - " * 1000, "- " * 2000,
    "".join("  " * i + "- x\n" for i in range(200))[:4000], "**" * 1000 + "x" + "**" * 1000, "*_~~`[" * 666,
    "`" * 4000, "<" * 4000, "&#" * 2000, "www.a.com " * 400, "\\" * 4000, "![" * 2000,
])
def test_deep_nesting_and_long_runs_render_whole_and_balanced(text):
    out = html(text)
    assert_safe(out)
    assert text_of(out).count("x") == text.count("x")  # every word shown


def test_nesting_past_the_limit_is_shown_as_plain_text_not_dropped():
    text = "".join("  " * i + f"- item{i}\n" for i in range(60))
    out = html(text)
    assert all(f"item{i}" in out for i in range(60))


# --- mentions ---------------------------------------------------------------------------------------

def test_mentions_are_highlighted_in_words_never_in_code_or_links():
    text = "@ada **@ada** `@ada`\n```\n@ada\n```\n[@ada](https://a.example) https://a.example/@ada @everyone"
    out = html(text, {"ada": 7})
    assert out.count('data-user-id="7"') == 2 and out.count("data-everyone") == 1
    assert "<code>@ada</code>" in out
    assert mention_names(text) == ["ada", "ada", "everyone"]


def test_someone_not_mentioned_is_not_highlighted():
    assert "mention" not in html("@nobody here", {"ada": 7})


# --- the doors --------------------------------------------------------------------------------------

async def test_the_page_shows_the_formatting_and_the_edit_form_the_source(app, general, alice, sign_in):
    async with app.app_context():
        message = await chat.post(alice, general, "**bold** `code`\n```python\nx = 1\n```")
    client = await sign_in("alice")
    page = await (await client.get(f"/chat/{general.id}")).get_data(as_text=True)
    assert "<strong>bold</strong> <code>code</code>" in page and '<span class="n">x</span>' in page
    assert '<details class="formatting-help">' in page
    edit = await (await client.get(f"/chat/messages/{message.id}/edit", headers={"HX-Request": "true"})).get_data(
        as_text=True)
    assert "**bold** `code`\n```python\nx = 1\n```</textarea>" in edit


async def test_programs_get_the_text_and_its_html(app, general, alice):
    api = await api_login(app, "alice")
    status, body, _ = await api.post(f"/api/v1/conversations/{general.id}/messages", {"text": "**hi** <b>x</b>"})
    assert status == 201
    assert body["data"]["text"] == "**hi** <b>x</b>"
    assert body["data"]["html"] == "<p><strong>hi</strong> &lt;b&gt;x&lt;/b&gt;</p>"
    status, page, _ = await api.get(f"/api/v1/conversations/{general.id}/messages")
    assert page["data"]["messages"][0]["html"] == body["data"]["html"]


async def test_a_new_renderer_version_renders_every_message_again(app, general, alice, sign_in, monkeypatch):
    async with app.app_context():
        await chat.post(alice, general, "**once**")
    client = await sign_in("alice")
    assert "<strong>once</strong>" in await (await client.get(f"/chat/{general.id}")).get_data(as_text=True)
    monkeypatch.setattr(markdown, "render", lambda text, mentioned=None: "<p>rendered anew</p>")
    same = await (await client.get(f"/chat/{general.id}")).get_data(as_text=True)
    assert "<strong>once</strong>" in same  # cached by version: the same renderer is not asked again
    monkeypatch.setattr(markdown, "VERSION", markdown.VERSION + 1)
    assert "rendered anew" in await (await client.get(f"/chat/{general.id}")).get_data(as_text=True)


def test_the_allow_list_holds_whatever_the_renderer_gives_it():
    dirty = ('<p class="evil mention" style="color:red" hx-get="/x" onclick="x()">a</p><img src=x onerror=alert(1)>'
             '<a href="javascript:alert(1)">j</a><a href="/relative">r</a><script>alert(1)</script>'
             '<span class="k" data-user-id="3" data-x="y">k</span><button type="submit" formaction="/x">b</button>'
             '<bdi dir="rtl">z</bdi><iframe src="https://a.example"></iframe>')
    out = allowed.clean(dirty)
    assert out == ('<p>a</p><a target="_blank" rel="noopener noreferrer nofollow ugc">j</a>'
                   '<a target="_blank" rel="noopener noreferrer nofollow ugc">r</a>'
                   '<span class="k" data-user-id="3">k</span><button>b</button><bdi>z</bdi>')
