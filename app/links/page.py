"""What a link preview reads: the first web address of a message, and what a page says of itself.

`first_link` is chat's (app/chat/link_previews.py, where a post writes the pending row): it reads
the message with chat's own Markdown parser, so the link previewed is the first one the reader
sees linked: bare addresses, `www.` ones and [text](url), never one in code, never a mail
address. `parse` reads the head of an HTML page (in one pass, stopping where the body begins)
for its Open Graph / Twitter / plain meta tags. Every value comes out as plain text: entities
decoded, tags dropped, control characters removed, whitespace collapsed, cut to what the
link_previews columns hold; the image address is made absolute against the page and kept only
if it is http or https."""
from __future__ import annotations

import codecs
import html
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from app.chat.link_previews import first_link  # noqa: F401 - the one rule, where the row is written

TITLE_MAX, DESCRIPTION_MAX, SITE_MAX, IMAGE_URL_MAX = 300, 500, 100, 2048
TITLES = ("og:title", "twitter:title")
DESCRIPTIONS = ("og:description", "twitter:description", "description")
IMAGES = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")
META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
JOINERS = "\u200c\u200d"
# The encodings of the web (the WHATWG Encoding Standard's, as Python names them), and how to read
# each: never one of Python's other codecs (rot13, base64, unicode_escape, idna: not text, or not
# safe), and Latin-1 and ASCII read as windows-1252, as browsers do.
WEB_ENCODINGS = {name: name for name in (
    "utf-8", "utf-16-le", "utf-16-be", "cp866", "iso8859-2", "iso8859-3", "iso8859-4", "iso8859-5", "iso8859-6",
    "iso8859-7", "iso8859-8", "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-15", "iso8859-16", "koi8-r",
    "koi8-u", "mac-roman", "mac-cyrillic", "cp874", "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255",
    "cp1256", "cp1257", "cp1258", "gbk", "gb18030", "big5", "euc_jp", "iso2022_jp", "shift_jis", "euc_kr")} | {
    "iso8859-1": "cp1252", "ascii": "cp1252", "utf-16": "utf-16-le"}
PRESCAN = 4096  # bytes looked at for a <meta charset>


@dataclass(frozen=True)
class Page:
    url: str  # the final URL after redirects
    title: str | None  # og:title, else twitter:title, else <title>; trimmed, ≤ 300 chars
    description: str | None  # og:description / description; ≤ 500 chars
    site: str | None  # og:site_name, else the host; ≤ 100 chars
    image_url: str | None  # og:image (absolute, http/https only), resolved against the page


# --- the page -------------------------------------------------------------------------------------

def charset(body: bytes, declared: str | None) -> str:
    """The page's encoding: a byte order mark, the Content-Type header's charset, a <meta charset>
    near the top, else UTF-8. A name that is not an encoding of the web counts as not given."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            return name
    meta = META_CHARSET.search(body[:PRESCAN])
    for name in (declared, meta.group(1).decode("ascii") if meta else None):
        try:
            found = codecs.lookup(name).name if name else None
        except LookupError:
            continue
        if found in WEB_ENCODINGS:
            # A page that says utf-16 in ASCII bytes is not utf-16 (the HTML standard's rule).
            return "utf-8" if found.startswith("utf-16") and name is not declared else WEB_ENCODINGS[found]
    return "utf-8"


# The head read by hand, in one pass: html.parser takes quadratic time on some broken markup
# ("<a<a<a…": minutes for a megabyte), and a page is the attacker's to write. Each step below
# moves forward; nothing is scanned twice but a tag's own attributes.
TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)")
ATTRIBUTE = re.compile(r"""\s*([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?|\s*/""")
RAW_END = {name: re.compile(rf"</{name}[\s/>]", re.IGNORECASE)
           for name in ("script", "style", "title", "noscript", "template")}
HEAD = frozenset({"html", "head", "meta", "title", "base", "link", "script", "style", "noscript", "template"})
MARKUP = re.compile(r"<[^<>]*>")


@dataclass
class _Head:
    meta: dict[str, str] = field(default_factory=dict)
    title: str | None = None
    base: str | None = None
    html: bool = False  # a tag only HTML has was seen


def _attributes(s: str, at: int) -> tuple[dict[str, str], int]:
    """A tag's attributes from `at`, and where the tag ends (after its ">"; -1: it never does)."""
    values: dict[str, str] = {}
    while (found := ATTRIBUTE.match(s, at)) and found.end() > at:
        if found.group(1):
            value = next((v for v in found.group(2, 3, 4) if v is not None), "")
            values.setdefault(found.group(1).lower(), html.unescape(value))
        at = found.end()
    end = s.find(">", at)
    return values, end + 1 if end >= 0 else -1


def _scan(s: str) -> _Head:
    head, at = _Head(), 0
    while (at := s.find("<", at)) >= 0:
        if s.startswith("<!--", at):
            end = s.find("-->", at + 4)
            at = end + 3 if end >= 0 else -1
        elif s.startswith(("<!", "<?"), at):
            end = s.find(">", at)
            at = end + 1 if end >= 0 else -1
        elif not (tag := TAG.match(s, at)):
            at += 1
            continue
        else:
            closing, name = tag.group(1), tag.group(2).lower()
            values, at = _attributes(s, tag.end())
            if at < 0 or (closing and name == "head") or (not closing and name not in HEAD):
                break  # the head is over (an element of the body, even without <body>)
            head.html = True
            if closing:
                continue
            if name == "meta":
                key = (values.get("property") or values.get("name") or "").strip().lower()
                if key and "content" in values:
                    head.meta.setdefault(key, values["content"])
            elif name == "base" and head.base is None and values.get("href"):
                head.base = values["href"]
            if name in RAW_END:  # text up to its end tag, never read as markup
                end = RAW_END[name].search(s, at)
                if name == "title" and head.title is None:
                    head.title = MARKUP.sub("", html.unescape(s[at:end.start() if end else len(s)]))
                at = end.start() if end else -1
        if at < 0:
            break
    return head


def text(value: str | None, limit: int) -> str | None:
    """Plain text of at most `limit` characters: control characters and invisible format ones
    (bidi overrides, zero-width spaces: a title must not reorder the card) out, whitespace
    collapsed. The joiners stay: emoji sequences and Persian need them."""
    if value is None:
        return None
    value = "".join(" " if unicodedata.category(ch) == "Cc" else "" if unicodedata.category(ch) == "Cf"
                    and ch not in JOINERS else ch for ch in value)
    value = " ".join(value.split())
    if len(value) > limit:
        value = value[:limit - 1].rstrip() + "…"
    return value or None


def image(value: str | None, base: str) -> str | None:
    """The image's absolute address, if it is a web address (never javascript:, data:, file:)."""
    if not value or not value.strip():
        return None
    try:
        address = urljoin(base, value.strip())
        parts = urlsplit(address)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or len(address) > IMAGE_URL_MAX:
        return None
    return address


def parse(body: bytes, url: str, *, declared_charset: str | None = None, complete: bool = True) -> Page | None:
    """What the page at `url` (the final address) says of itself. `complete` False: the body was
    cut at the size limit. None when it is not HTML (no HTML tag before the cut)."""
    parser = _scan(body.decode(charset(body, declared_charset), errors="replace"))
    if not parser.html and not complete:
        return None
    meta = parser.meta
    base = urljoin(url, parser.base) if parser.base else url
    first = lambda names: next((meta[name] for name in names if meta.get(name, "").strip()), None)  # noqa: E731
    title = first(TITLES) or parser.title
    site = text(meta.get("og:site_name"), SITE_MAX) or text(urlsplit(url).hostname, SITE_MAX)
    return Page(url=url, title=text(title, TITLE_MAX), description=text(first(DESCRIPTIONS), DESCRIPTION_MAX),
                site=site, image_url=image(first(IMAGES), base))
