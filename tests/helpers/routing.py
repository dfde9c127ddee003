"""Building an app costs the tests mostly one thing: Werkzeug writes and compiles two small URL
builder functions (ast, compile) for every rule, about 170 per app, and nearly every test builds
an app. The functions depend only on the rule's parsed pattern, so the tests compile each one once
per process and bind it to every later Rule of the same pattern, as Werkzeug binds its own.

Routing is unchanged: a builder is shared only when everything its code is made from is equal
(the pattern, its parsed parts, the defaults' names), and rules whose default values are baked
into the code compile as usual. If Werkzeug's private method goes, nothing is installed and apps
build at the usual cost. Test processes only: the real servers the tests start compile their own."""
from __future__ import annotations

import functools

from werkzeug.routing.rules import Rule

_builders: dict[tuple, object] = {}


def share_url_builders() -> bool:
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "shared", False):
        return False

    @functools.wraps(compile_builder)
    def shared(self: Rule, append_unknown: bool = True):
        defaults = self.defaults or {}
        if any(dynamic and data in defaults for dynamic, data in self._trace):
            return compile_builder(self, append_unknown)  # a default's value is part of the code
        key = (self.rule, tuple(self._trace), tuple(defaults), append_unknown)
        builder = _builders.get(key)
        if builder is None:
            builder = _builders[key] = compile_builder(self, append_unknown)
        return builder

    shared.shared = True
    Rule._compile_builder = shared
    return True
