"""The layers, read from the source: every import (at the top of a module or inside a function)
points down or sideways, never up, and no two packages import each other.

    doors      pages and htmx (<feature>/routes.py), sockets (live/), the JSON API (api/), CLI
    services   accounts, admin, chat, feedback, search, links and notify (above chat: they ask chat who
               reads what), files (below chat: messages carry files; who reads a file is the
               models' reading rule): rules, transactions, publish after commit
    models     models/: Tortoise models and hot reads
    below      realtime/ (broker, presence, events, the connection base), web/ (HTTP plumbing),
               runtime, config, private_files, storage/, compat, clock, domain, mail, logs, jobs
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from app.config import ROOT

APP = ROOT / "app"
FEATURES = {"accounts", "admin", "chat", "feedback", "files", "links", "notify", "search"}
DOORS = {"api", "live", "home", "health", "__main__", "supervisor"}
DOOR_MODULES = {"routes", "password_routes", "push_routes", "rooms", "people_routes", "level_routes", "socket",
                "rest", "rest_chat", "rest_files", "ws", "messenger", "mention_routes", "avatar_routes",
                "reaction_routes", "rest_links", "thread_routes", "rest_threads"}
# Who may import a door module: only the places that register blueprints.
REGISTRARS = {"app", "app.api"}


def modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path, name: str) -> set[str]:
    """Every app module this one imports, wherever the import statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and getattr(block.test, "id", None) == "TYPE_CHECKING" for n in ast.walk(block)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue  # names for type checkers only: no import when the code runs
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    known = modules()
    return {each for each in found if each in known and each != name}


def area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "app"


def graph() -> dict[str, set[str]]:
    return {name: imports(path, name) for name, path in modules().items()}


def test_models_and_the_layers_below_import_no_feature_and_no_door():
    below = {"models", "realtime", "web", "runtime", "config", "private_files", "storage", "compat", "clock", "domain",
             "mail", "logs", "jobs"}
    wrong = sorted((name, target) for name, targets in graph().items() if area(name) in below
                   for target in targets if area(target) in FEATURES | DOORS)
    assert wrong == [], "imports pointing up: " + ", ".join(f"{a} → {b}" for a, b in wrong)


def test_services_import_no_door():
    wrong = sorted((name, target) for name, targets in graph().items() if area(name) in FEATURES
                   and name.rpartition(".")[2] not in DOOR_MODULES
                   for target in targets if area(target) in DOORS or target.rpartition(".")[2] in DOOR_MODULES)
    assert wrong == [], "services importing doors: " + ", ".join(f"{a} → {b}" for a, b in wrong)


def test_nothing_imports_a_routes_or_socket_module_but_the_app_that_registers_it():
    wrong = sorted((name, target) for name, targets in graph().items() if name not in REGISTRARS
                   for target in targets if target.rpartition(".")[2] in DOOR_MODULES
                   and area(target) != "supervisor")
    assert wrong == [], ", ".join(f"{a} → {b}" for a, b in wrong)


def test_no_two_packages_import_each_other():
    edges = defaultdict(set)
    for name, targets in graph().items():
        for target in targets:
            if area(name) != area(target) and "app" not in (area(name), area(target)):
                edges[area(name)].add(area(target))
    circles = sorted({tuple(sorted((a, b))) for a in edges for b in edges[a] if a in edges.get(b, ())})
    assert circles == [], f"packages importing each other: {circles}"
