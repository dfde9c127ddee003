"""Message text to HTML: a small Markdown for chat (markdown-it-py), then an allow-list (nh3).

The text is stored as written; this renders it once per message version (app/chat/events.py keys
its caches with VERSION: a change here that changes the HTML bumps it, and every message is
rendered again). What a person may write: **bold**, _italic_, ~~strike~~, `code`, ```fenced```
code (highlighted here by Pygments: classes only, styled by static/css/code.css), quotes, lists,
tables, links; bare web addresses, `www.` ones and email addresses are linked. Headings are bold
paragraphs (a message is not a document, and the page keeps its own outline); images are links
showing their alt text (nobody's browser fetches a third party's picture); raw HTML is text.

What text.py promised still holds. Nothing a person types is read as HTML, an htmx attribute or
template code: markdown-it-py's HTML is off, links are http, https or mailto only (checked on the
normalised address, so entities, case and whitespace tricks fail), and nh3 keeps only the tags,
attributes, classes and schemes of app/chat/allowed.py, whatever the renderer did. A link shows where it
goes: its address loses the invisible format characters, an address shown as such is a
left-to-right isolate, and a link with words of its own is followed by its host. Mentions are
found in the text only, never in code or a link (mention_names: app/chat/mentions.py reads the
same tokens, so what is highlighted is what notified)."""
from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.rules_inline.newline import newline
from markdown_it.token import Token
from markupsafe import Markup, escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from app.chat.allowed import clean
from app.chat.text import EVERYONE, MENTION, MENTION_HTML, URL, invisible, mention_key

VERSION = 1  # in the render caches' keys: bump it when the HTML for the same text changes

SCHEMES = ("http:", "https:", "mailto:")
# Fuzzy addresses (no scheme written) ending like a file name, not a web site: "README.md", "app.py".
FILE_LIKE = frozenset({"md", "py", "sh", "rs", "pl", "ps", "cs", "so", "ai", "im", "cc", "sc", "gz", "zip"})
LIMIT_NESTING = 40  # quotes in lists in quotes: a message nested this deep is shown as plain text

def _visible(url: str) -> str:
    return "".join(ch for ch in url if not invisible(ch))


def _allowed(url: str) -> bool:
    """Only web and mail addresses: checked after markdown-it normalised it (entities decoded,
    percent-encoded), so `jav&#x61;script:`, `JaVaScRiPt:` or ` javascript:` never pass."""
    return url.strip().lower().startswith(SCHEMES)


def _parser() -> MarkdownIt:
    md = MarkdownIt("js-default", {"html": False, "linkify": True, "breaks": True, "typographer": False,
                                   "maxNesting": LIMIT_NESTING})
    md.enable(["linkify", "strikethrough", "table"]).disable(["code"])  # four spaces are not code in chat
    normalize, normalize_text = md.normalizeLink, md.normalizeLinkText
    md.normalizeLink = lambda url: normalize(_visible(url))
    md.normalizeLinkText = lambda url: normalize_text(_visible(url))
    md.validateLink = _allowed
    md.core.ruler.after("linkify", "chat_links", _chat_links)
    md.inline.ruler.at("newline", _newline)
    rules = md.add_render_rule
    rules("fence", _fence)
    rules("softbreak", lambda self, tokens, i, options, env: BREAK)  # a line feed, kept by _joined
    rules("hardbreak", lambda self, tokens, i, options, env: BREAK)
    rules("heading_open", lambda self, tokens, i, options, env: "<p><strong>")
    rules("heading_close", lambda self, tokens, i, options, env: "</strong></p>")
    rules("link_open", _link_open)
    rules("link_close", _link_close)
    rules("mention", lambda self, tokens, i, options, env: tokens[i].content)
    return md


def _newline(state, silent: bool) -> bool:
    """A line break keeps the next line's indentation (chat is not a document: a line typed
    indented is meant so, and paragraphs keep their spaces: static/css/formatting.css); markdown-it's
    own rule drops it."""
    start = state.pos
    if not newline(state, silent):
        return False
    if not silent:
        state.pending += state.src[start + 1:state.pos]
    return True


# --- the tokens: links, images, mentions ----------------------------------------------------------

def _fuzzy_file(token: Token, text: str) -> bool:
    """A linkified "README.md": no scheme and no www., and a last label that names a file type."""
    if token.markup != "linkify" or "://" in text or text.lower().startswith(("www.", "mailto:")) or "@" in text:
        return False
    host = urlsplit("http://" + text).hostname or ""
    return host.rsplit(".", 1)[-1].lower() in FILE_LIKE


def _chat_links(state) -> None:
    for block in state.tokens:
        if block.type == "inline" and block.children:
            block.children = _inline(state, block.children)


def _inline(state, children: list[Token]) -> list[Token]:
    out: list[Token] = []
    depth, i = 0, 0
    mentioned = state.env.get("mentioned")
    while i < len(children):
        token = children[i]
        if token.type == "link_open" and _fuzzy_file(token, children[i + 1].content if i + 1 < len(children) else ""):
            close = next(j for j in range(i + 1, len(children)) if children[j].type == "link_close")
            out.extend(children[i + 1:close])  # back to text
            i = close + 1
            continue
        if token.type == "image":  # a link to the picture, named by its alt text (or its address)
            label = token.children or [_text(token.attrGet("src") or "")]
            if depth:
                out.extend(label)
            else:
                opened = Token("link_open", "a", 1, attrs={"href": token.attrGet("src") or ""}, markup="image")
                out.extend([opened, *label, Token("link_close", "a", -1, markup="image")])
            i += 1
            continue
        if token.type == "link_open":
            depth += 1
        elif token.type == "link_close":
            depth -= 1
        if token.type == "text" and not depth and mentioned is not None:
            out.extend(_mentions(state, token, mentioned))
        else:
            out.append(token)
        i += 1
    return out


def _text(content: str) -> Token:
    return Token("text", "", 0, content=content)


def _names(text: str) -> list[tuple[int, int, str]]:
    """Each `@name` of a stretch of text (as text.mention_tokens: "@ada." ends at ada,
    "@ada@example.com" is an address)."""
    found = []
    for match in MENTION.finditer(text):
        name = match.group(1).rstrip("._-")
        if name and text[match.end():match.end() + 1] != "@":
            found.append((match.start(), match.start() + 1 + len(name), name))
    return found


def _mentions(state, token: Token, mentioned: dict[str, int]) -> list[Token]:
    state.env.setdefault("names", []).extend(name for _, _, name in _names(token.content))
    pieces, last = [], 0
    for start, end, name in _names(token.content):
        key = mention_key(name)
        if key == EVERYONE:
            html = MENTION_HTML.format(Markup(' data-everyone=""'), name)
        elif key in mentioned:
            html = MENTION_HTML.format(Markup(' data-user-id="{0}"').format(mentioned[key]), name)
        else:
            continue
        pieces += [_text(token.content[last:start]), Token("mention", "", 0, content=str(html))]
        last = end
    return [*pieces, _text(token.content[last:])] if pieces else [token]


# --- rendering ------------------------------------------------------------------------------------

def _shown_as_address(token: Token) -> bool:
    return token.markup in ("linkify", "autolink")


def _link_open(self, tokens, i, options, env) -> str:
    token = tokens[i]
    html = Markup('<a href="{0}">').format(token.attrGet("href") or "")
    return Markup('<bdi dir="ltr">') + html if _shown_as_address(token) else html


def _link_close(self, tokens, i, options, env) -> str:
    if _shown_as_address(tokens[i]):
        return "</a></bdi>"
    start = next(j for j in range(i - 1, -1, -1) if tokens[j].type == "link_open")
    href = tokens[start].attrGet("href") or ""
    label = "".join(t.content for t in tokens[start + 1:i])
    return "</a>" + ("" if label.strip() in (href, href.removeprefix("mailto:")) else _where(href))


def _where(href: str) -> str:
    """After a link with words of its own: where it goes (the host, or the mail address)."""
    if href.lower().startswith("mailto:"):
        place = href[len("mailto:"):]
    else:
        place = urlsplit(href).hostname or ""
    return str(Markup('<span class="link-host"> (<bdi dir="ltr">{0}</bdi>)</span>').format(place)) if place else ""


@functools.lru_cache(maxsize=128)
def _lexer(name: str):
    try:
        return get_lexer_by_name(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


FORMATTER = HtmlFormatter(nowrap=True, classprefix="")


def _fence(self, tokens, i, options, env) -> str:
    token = tokens[i]
    language = token.info.strip().split(maxsplit=1)[0].lower() if token.info.strip() else ""
    lexer = _lexer(language) if language and len(language) <= 40 else None
    code = token.content
    body = highlight(code, lexer, FORMATTER) if lexer is not None else str(escape(code))
    return ('<div class="code-block" data-code><pre tabindex="0"><code>' + body.rstrip("\n") + "</code></pre>"
            '<button type="button" class="copy-code" data-copy-code hidden>Copy code</button></div>\n')


MD = _parser()


def _source(text: str) -> str:
    """Web addresses lose their invisible characters before parsing, as text.py's links did."""
    return URL.sub(lambda match: _visible(match.group(0)), text)


@functools.lru_cache(maxsize=2048)
def _render(text: str, mentioned: tuple[tuple[str, int], ...]) -> str:
    env = {"mentioned": dict(mentioned)}
    tokens = MD.parse(_source(text), env)
    if tokens and max(token.level for token in tokens) >= LIMIT_NESTING - 1:
        # markdown-it stops at its limit and drops the rest: show every word, unformatted, instead.
        return f"<p>{escape(text)}</p>"  # its line feeds shown by pre-wrap
    return clean(_joined(MD.renderer.render(tokens, MD.options, env)))


BREAK = "\x00"  # never in a text: markdown-it replaces NUL
PRE = re.compile(r"(<pre\b.*?</pre>)", re.DOTALL)


def _joined(html: str) -> str:
    """The renderer's line feeds between tags taken out (a paragraph keeps its spaces, so they
    would show), the text's own kept: a line break is a line feed in a paragraph that keeps them
    (white-space: pre-wrap, as before Markdown), and a code block keeps its own."""
    parts = PRE.split(html)
    return "".join(part if part.startswith("<pre") else part.replace("\n", "").replace(BREAK, "\n") for part in parts)


def render(text: str, mentioned: dict[str, int] | None = None) -> Markup:
    """The text as HTML, with `mentioned` (the username keys of the people the message mentions ->
    their ids) each of their @names highlighted, and @everyone (the same for every viewer)."""
    return Markup(_render(text, tuple(sorted((mentioned or {}).items()))))


def mention_names(text: str) -> list[str]:
    """Each @name written in the text, in order: in its words, never in code or a link."""
    env = {"mentioned": {}}
    MD.parse(_source(text), env)
    return env.get("names", [])
