"""Fragment or full page: the one place that reads htmx's request headers."""
from __future__ import annotations

import inspect
import json
from typing import Any

from quart import Response, redirect, render_template, request


def is_htmx() -> bool:
    # Boosted requests want the whole page; only targeted htmx requests get fragments.
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


async def render(page: str, fragment: str | None = None, status: int = 200, **context: Any) -> Response:
    """The fragment for htmx, the page (which includes the same fragment) for everyone else."""
    template = fragment if fragment and is_htmx() else page
    response = Response(await render_template(template, **context), status=status)
    response.headers["Vary"] = "HX-Request"
    return response


def redirect_to(location: str) -> Response:
    """After a successful write: a full navigation for htmx, a 303 for a plain form post."""
    if is_htmx():
        response = Response("", status=200)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, code=303)


def toast(response: Response, message: str) -> Response:
    """Say a change worked, for htmx: one polite toast (static/js/toasts.js shows it), in the words
    a plain browser gets as a flashed notice. Form errors are never toasts: they stay by the field."""
    response.headers["HX-Trigger"] = json.dumps({"huddle:toast": {"message": message}})  # ASCII-safe
    return response


def dom_id(obj: Any, suffix: str | None = None) -> str:
    """Stable DOM ids shared by templates, hx-target and out-of-band swaps: `session-12-row`."""
    if isinstance(obj, str):
        base = obj
    else:
        base = f"{type(obj).__name__.lower()}-{obj.pk}"
    return f"{base}-{suffix}" if suffix else base


def context_processors_in_place(app) -> None:
    """Quart runs a template context processor that is a plain function in its thread pool: a
    thread hop on every render (its own default one per blueprint, QuartAuth's current_user), a
    tenth of the room page's CPU in a profile. They are quick and wait on nothing: each is run in
    place. Called once everything is registered (app/web/security.py init_app: before serving)."""
    def inline(processor):
        async def run() -> dict:
            return processor()
        return run

    for processors in app.template_context_processors.values():
        processors[:] = [p if inspect.iscoroutinefunction(p) else inline(p) for p in processors]
