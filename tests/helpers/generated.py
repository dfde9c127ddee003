"""A Python client generated from one of Huddle's OpenAPI documents by openapi-python-client, as a
program's author would make one: offline, without post hooks (no ruff run on the generated code)."""
from __future__ import annotations

import contextlib
import importlib
import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import ModuleType

import httpx


def fetch_document(url: str) -> dict:
    return json.load(urllib.request.urlopen(url, timeout=10))


@contextlib.contextmanager
def generated_client(document: dict, folder: Path, package: str):
    """Yields (what the generator printed, the imported package); forgets the package after."""
    (folder / "openapi.json").write_text(json.dumps(document))
    (folder / "config.yaml").write_text("post_hooks: []\n")
    run = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(folder / "openapi.json"),
         "--output-path", str(folder / package), "--meta", "none", "--config", str(folder / "config.yaml"),
         "--fail-on-warning"],
        capture_output=True, text=True, timeout=120, cwd=folder,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    sys.path.insert(0, str(folder))
    try:
        yield output, importlib.import_module(package)
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
            del sys.modules[name]


def operations(package: ModuleType, operation_ids, tag: str) -> dict[str, ModuleType]:
    """The generated modules by operationId: ops["sendMessage"].sync_detailed(...)."""
    return {operation_id: importlib.import_module(f"{package.__name__}.api.{tag}.{snake(operation_id)}")
            for operation_id in operation_ids}


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def warnings_in(output: str) -> list[str]:
    """What the generator warned of (endpoints or responses it left out, hooks it skipped)."""
    return [line for line in output.splitlines() if "warning" in line.lower() or "skipping" in line.lower()]


def with_body(content_type: str | None = None, body: bytes | None = None) -> dict:
    """httpx_args whose hook changes what the generated client sends (for 400 and 415 answers)."""
    def change(request: httpx.Request) -> None:
        if content_type is not None:
            request.headers["Content-Type"] = content_type
        if body is not None:
            request.stream = httpx.ByteStream(body)
            request.headers["Content-Length"] = str(len(body))
    return {"event_hooks": {"request": [change]}}
