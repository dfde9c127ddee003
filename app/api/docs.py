"""The API's documentation page, /docs/api: an HTML page of the site, made from the same OpenAPI
document programs read (/api/v1/openapi.json), plus the two websocket protocols. Server-rendered
like every page: no documentation viewer script from a CDN."""
from __future__ import annotations

from quart import Blueprint, Response, current_app, redirect, url_for

from app.web.htmx import render

bp = Blueprint("api_docs", __name__)

METHOD_ORDER = ["get", "post", "put", "patch", "delete"]


def _resolve(schema: dict, document: dict) -> dict:
    ref = schema.get("$ref")
    if ref and ref.startswith("#/components/schemas/"):
        return document.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[1], {})
    return schema


def _fields(schema: dict | None, document: dict) -> list[dict]:
    """A body's fields as rows: name, type, required, description."""
    if not schema:
        return []
    schema = _resolve(schema, document)
    required = set(schema.get("required", []))
    rows = []
    for name, spec in schema.get("properties", {}).items():
        spec = _resolve(spec, document)
        kind = spec.get("type") or " or ".join(
            _resolve(option, document).get("type", "object") for option in spec.get("anyOf", []))
        if kind == "array":
            kind = f"array of {_resolve(spec.get('items', {}), document).get('type', 'object')}"
        rows.append({"name": name, "type": kind or "object", "required": name in required,
                     "description": spec.get("description", "")})
    return rows


def operations(document: dict) -> list[dict]:
    rows = []
    for path, methods in document.get("paths", {}).items():
        for method in sorted(methods, key=lambda m: METHOD_ORDER.index(m) if m in METHOD_ORDER else 9):
            op = methods[method]
            # JSON, or a multipart form for an upload (uploadFile)
            body_type, media = next(iter(op.get("requestBody", {}).get("content", {}).items()), (None, {}))
            body = media.get("schema")
            query = [p for p in op.get("parameters", []) if p.get("in") == "query"]
            rows.append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""), "body": _fields(body, document), "body_type": body_type,
                "query": [{"name": p["name"], "description": p.get("schema", {}).get("description", ""),
                           "required": p.get("required", False)} for p in query],
                "statuses": sorted(str(code) for code in op.get("responses", {})),
                "public": op.get("security") == [],
            })
    return rows


@bp.get("/docs/api")
async def docs() -> Response:
    """How programs talk to Huddle: REST, the JSON websocket and the messenger adapter."""
    document = current_app.extensions["QUART_SCHEMA"].openapi_provider.schema()
    return await render("api/docs.html", operations=operations(document),
                        base_url=current_app.config["HUDDLE"].base_url)


@bp.get("/api/v1/docs")
async def docs_alias() -> Response:
    return redirect(url_for("api_docs.docs"), code=302)
