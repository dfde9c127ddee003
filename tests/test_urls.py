"""URLs by name (STYLE.md habit 12): no template attribute and no redirect spells an app path by
hand; and paths built outside a request (fragments rendered once for every viewer) stay paths."""
from __future__ import annotations

import ast
import re

import pytest
from quart import render_template

from app.chat import service
from app.config import ROOT

# --- templates -----------------------------------------------------------------------------------

# Attributes that hold a URL the browser (or htmx, or a script) follows.
URL_ATTRIBUTE = re.compile(
    r"""(?<![\w-])(?P<name>href|action|src|formaction|hx-(?:get|post|put|patch|delete)|ws-connect"""
    r"""|data-location|data-[\w-]*-url)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s>"']+))"""
)
EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)
STATEMENT = re.compile(r"\{%.*?%\}", re.S)
COMMENT = re.compile(r"\{#.*?#\}", re.S)
# What a URL attribute may hold besides a url_for: nothing (a link to this very page), an anchor on
# the page, a site elsewhere, an address to write to.
NOT_AN_APP_PATH = re.compile(r"(|#.*|https?://.*|mailto:.*)", re.S)


def _named_urls(source: str) -> set[str]:
    """Variables a template sets from url_for only: `{% set edit_url = url_for(...) %}`."""
    names = set()
    for name, value in re.findall(r"\{%-?\s*set\s+(\w+)\s*=(.*?)-?%\}", source, re.S):
        # Every branch of the value is a url_for call: `url_for(a) if item else url_for(b)`.
        branches = re.split(r"\belse\b", value)
        if all(branch.strip().startswith("url_for(") for branch in branches):
            names.add(name)
    return names


def hand_written_urls(source: str) -> list[str]:
    """`name="value"` of every URL attribute in a template that is not built by url_for."""
    named = _named_urls(source)
    # Hide expressions and tags first: their quotes and `>` would end an attribute early, and
    # `{% if action == ... %}` is no attribute. A tag inside a value still counts as text.
    held: list[str] = []

    def hold(match: re.Match) -> str:
        held.append(match.group(1).strip())
        return f"\x00{len(held) - 1}\x00"

    hidden = STATEMENT.sub("\x01", EXPRESSION.sub(hold, COMMENT.sub("", source)))
    found = []
    for match in URL_ATTRIBUTE.finditer(hidden):
        value = next(v for v in (match["dq"], match["sq"], match["bare"]) if v is not None)
        if by_name(value, held, named) or NOT_AN_APP_PATH.fullmatch(value):
            continue
        shown = re.sub("\x00(\\d+)\x00", lambda m: "{{ " + held[int(m.group(1))] + " }}", value)
        found.append(f'{match["name"]}="{shown}"')
    return found


def by_name(value: str, held: list[str], named: set[str]) -> bool:
    """The value is one url_for expression (or a variable set from one), perhaps with an anchor."""
    match = re.fullmatch("\x00(\\d+)\x00(#.*)?", value, re.S)
    if match is None:
        return False
    expression = held[int(match.group(1))]
    # `|elsewhere`: another site's URL, http(s) only (app/web/urls.py), never an app path.
    return (expression.startswith("url_for(") or expression in named
            or re.search(r"\|\s*elsewhere$", expression) is not None)


@pytest.mark.parametrize(("attribute", "hand_written"), [
    ('<a href="/chat">', True),
    ('<a href="/chat/{{ room.id }}">', True),
    ('<form action="/login{% if next %}?next={{ next|urlencode }}{% endif %}">', True),
    ('<a hx-get="{{ base }}/messages">', True),
    ("<div ws-connect='/live'>", True),
    ('<button formaction=/admin/users>', True),
    ('<div data-read-url="/chat/{{ id }}/read">', True),
    ('<div data-location="/login?reason=x">', True),
    ('<img src="static/logo.svg">', True),
    ('<a href="{{ url_for(\'chat.show\', conversation_id=room.id) }}">', False),
    ('<a href="{{ url_for("chat.show", conversation_id=room.id) }}#message-3">', False),
    ('{% set older_url = url_for(\'chat.older\', conversation_id=1) %}<a hx-get="{{ older_url }}">', False),
    ('{% set action = url_for("a.b") if item else url_for("a.c") %}<form action="{{ action }}">', False),
    ('<div data-read-url="{{ url_for(\'chat.read\', conversation_id=c.id) }}">', False),
    ('<a href="#main">', False),
    ('<a href="{{ preview.url|elsewhere }}">', False),
    ('<a href="{{ preview.url }}">', True),
    ('<a href="">', False),
    ('<a href="https://example.com/x">', False),
    ('<a href="mailto:someone@example.com">', False),
    ('<div data-conversation="3" class="/not-a-url">', False),
])
def test_the_template_check_tells_a_hand_written_path_from_one_built_by_name(attribute, hand_written):
    assert bool(hand_written_urls(attribute)) is hand_written


def test_no_template_writes_an_app_path_by_hand():
    found = {
        str(path.relative_to(ROOT / "templates")): urls
        for path in sorted((ROOT / "templates").rglob("*.html"))
        if (urls := hand_written_urls(path.read_text()))
    }
    assert found == {}, "use url_for(...) for these (STYLE.md habit 12)"


# --- Python --------------------------------------------------------------------------------------

# Where a redirect goes: the argument of these calls, and these response headers.
REDIRECTS = {"redirect", "redirect_to"}
LOCATION_HEADERS = {"Location", "HX-Redirect", "HX-Location", "Content-Location", "Refresh"}
# file (under app/) -> why it may build an app path by string. None so far.
ALLOWED: dict[str, str] = {}


def _spells_path(node: ast.AST) -> bool:
    """Somewhere in this expression a string starts an app path: "/chat", f"/chat/{id}"."""
    return any(isinstance(part, ast.Constant) and isinstance(part.value, str) and part.value.startswith("/")
               for part in ast.walk(node))


def _glued_to_base_url(node: ast.JoinedStr) -> bool:
    """A whole link made by gluing a path to the base URL: f"{settings.base_url}/join/{token}"."""
    return any(isinstance(before, ast.FormattedValue) and "base_url" in ast.unparse(before.value)
               and isinstance(after, ast.Constant) and str(after.value).startswith("/")
               for before, after in zip(node.values, node.values[1:], strict=False))


def paths_built_by_string(source: str) -> list[str]:
    """Redirects, location headers and base-URL links in Python source that spell a path."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in REDIRECTS and node.args and _spells_path(node.args[0]):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Assign):
            if any(isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant)
                   and target.slice.value in LOCATION_HEADERS for target in node.targets) and _spells_path(node.value):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.JoinedStr) and _glued_to_base_url(node):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize(("code", "by_string"), [
    ('return redirect("/chat", code=303)', True),
    ('return redirect(f"/chat/{room.id}", code=303)', True),
    ('return redirect_to(next_url or "/chat")', True),
    ('response.headers["HX-Redirect"] = f"/login?next={quote(here())}"', True),
    ('response.headers["Location"] = "/account/sessions"', True),
    ('link = f"{settings.base_url}/join/{token}"', True),
    ('return redirect(url_for("chat.show", conversation_id=room.id), code=303)', False),
    ('return redirect_to(next_url or url_for("chat.index"))', False),
    ('response.headers["HX-Redirect"] = url_for("accounts.login", next=here())', False),
    ('link = external_url("accounts.join", token=token)', False),
    ('parts = path.split("/")', False),
    ('if path.startswith("/api/"):\n    pass', False),
])
def test_the_python_check_tells_a_path_by_string_from_one_by_name(code, by_string):
    assert bool(paths_built_by_string(code)) is by_string


def test_no_redirect_in_the_app_spells_a_path_by_hand():
    found = {}
    for path in sorted((ROOT / "app").rglob("*.py")):
        name = str(path.relative_to(ROOT / "app"))
        if name not in ALLOWED and (lines := paths_built_by_string(path.read_text())):
            found[name] = lines
    assert found == {}, "use url_for(...) (or app.web.urls.external_url for mail) for these"


# --- paths built outside a request ---------------------------------------------------------------

async def test_a_message_rendered_with_no_request_links_by_path_the_same_as_in_one(app, alice, general):
    """The message fragment is rendered once and sent to everyone: its links are paths (no scheme,
    no host), the same whether a request, whatever its Host, or no request at all is behind it."""
    async with app.app_context():
        message = await service.post(alice, general, "hello")
        alone = await render_template("chat/_message.html", message=message)
    async with app.test_request_context("/chat", headers={"Host": "chat.example.org"}):
        in_a_request = await render_template("chat/_message.html", message=message)
    assert alone == in_a_request
    links = re.findall(r'(?:href|hx-get|hx-post|data-[\w-]*-url)="([^"#][^"]*)"', alone)
    assert f"/chat/{general.id}/messages/{message.id}" in links  # the permalink
    assert f"/chat/messages/{message.id}/edit" in links
    assert all(link.startswith("/chat/") for link in links), links  # paths: no scheme, no host


async def test_a_forced_logout_rendered_with_no_request_sends_to_the_login_path(app):
    async with app.app_context():
        control = await render_template("live/_control.html", action="logout", reason="deleted")
    assert 'data-location="/login?reason=deleted"' in control


async def test_links_in_mail_are_whole_urls_on_the_base_url_whatever_the_host_asked(app):
    from app.web.urls import external_url

    async with app.test_request_context("/", headers={"Host": "alias.example.org"}):
        assert external_url("accounts.join", token="abc") == "http://localhost/join/abc"
    async with app.app_context():
        assert external_url("password.reset", token="xyz") == "http://localhost/password/reset/xyz"


@pytest.mark.parametrize(("value", "written"), [
    ("https://example.com/a?b=1", "https://example.com/a?b=1"), ("http://example.com", "http://example.com"),
    ("javascript:alert(1)", ""), ("/chat/1", ""), ("//evil.example/x", ""), ("https:///nohost", ""),
    ("data:text/html,x", ""), (None, ""), ("http://[::1", ""),
])
def test_another_sites_url_is_written_only_when_it_is_http_or_https(value, written):
    from app.web.urls import elsewhere

    assert elsewhere(value) == written
