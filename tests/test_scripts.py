"""The page's scripts keep their conventions (static/js/README.md, STYLE.md habits 12-13): one
small behaviour per file, each loaded by the layout; one keyboard handler; URLs only from the
templates; nothing the Content Security Policy refuses."""
from __future__ import annotations

import re

import pytest

from app.config import ROOT
from app.web.assets import BUNDLES

SCRIPTS = sorted((ROOT / "static" / "js").glob("*.js"))


def test_there_are_scripts():
    assert len(SCRIPTS) > 5


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_each_script_is_one_small_behaviour_that_says_what_it_does(script):
    lines = script.read_text().splitlines()
    assert len(lines) <= 200, "past ~200 lines a file holds two behaviours: split it"
    assert lines[0].startswith("// ") and lines[1].startswith("// "), "opens with a paragraph on what it does"


# The service worker is no page's script: the browser runs it on its own, from /service-worker.js.
PAGE_SCRIPTS = [script for script in SCRIPTS if script.name != "service-worker.js"]


@pytest.mark.parametrize("script", PAGE_SCRIPTS, ids=lambda path: path.name)
def test_the_layout_loads_each_script(script):
    """By name, or through a bundle it loads (app/web/assets.py BUNDLES: one request for several files)."""
    layout = (ROOT / "templates" / "layout.html").read_text()
    bundles = [name for name, parts in BUNDLES.items() if f"js/{script.name}" in parts]
    assert f'"{script.stem}"' in layout or any(f"filename='{name}'" in layout for name in bundles)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_scripts_build_no_paths_and_set_no_inline_style(script):
    code = "\n".join(line for line in script.read_text().splitlines() if not line.lstrip().startswith("//"))
    assert not re.search(r"""["'`]/\w""", code), "a URL comes from a data attribute the template wrote"
    assert not re.search(r"""\.style\b|setAttribute\(\s*["']style|cssText|insertRule""", code), "CSP: no inline style"
    assert "innerHTML" not in code and "eval(" not in code


def test_the_page_has_one_keyboard_handler_and_one_socket_close_handler():
    def count(pattern):
        return {script.name: n for script in SCRIPTS if (n := len(re.findall(pattern, script.read_text())))}

    assert count(r"""addEventListener\(\s*["']keydown""") == {"keys.js": 1}
    assert count(r"""addEventListener\(\s*["']htmx:wsClose""") == {"live.js": 1}
    assert count(r"""addEventListener\(\s*["']htmx:wsOpen""") == {"live.js": 1}
