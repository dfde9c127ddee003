"""The JSON API for programs (bots, scripts, other clients): REST and a JSON websocket under
/api/v1, and the messenger API under /api/messenger. All of it is a thin layer over the same
services, rules and broker as the pages (app/api/operations.py)."""
from __future__ import annotations

from quart import Quart
from quart_schema import QuartSchema

from app.api import messenger_schemas
from app.api.errors import messenger_error, v1_error
from app.api.openapi import OPENAPI_PATH, HuddleOpenAPI
from app.api.openapi import bp as openapi_bp
from app.web.errors import ErrorPages


def init_app(app: Quart, error_pages: ErrorPages) -> None:
    # Errors anywhere under /api are JSON (never the site's HTML page), in each dialect's shape.
    error_pages.answer_under("/api", v1_error)
    error_pages.answer_under("/api/messenger", messenger_error)
    test_client_class = app.test_client_class
    QuartSchema(
        app,
        openapi_path=OPENAPI_PATH,
        redoc_ui_path=None, scalar_ui_path=None, swagger_ui_path=None,  # ours is /api/v1/docs: no CDN scripts
        info={"title": "Huddle API", "version": "1",
              "description": "Rooms, direct conversations and messages for programs. See /api/v1/docs."},
        security_schemes={"bearer": {"type": "http", "scheme": "bearer", "bearer_format": "JWT"}},
        openapi_provider_class=HuddleOpenAPI,
    )
    # Its test client converts every form body through pydantic (and fails on a MultiDict); ours
    # sends what it is given, like a browser.
    app.test_client_class = test_client_class
    from app.api import rest_chat, rest_files, rest_links, rest_threads  # noqa: F401 - their views join rest's blueprint
    from app.api.docs import bp as docs_bp
    from app.api.messenger import bp as messenger_bp
    from app.api.rest import bp as rest_bp
    from app.api.ws import bp as ws_bp

    app.register_blueprint(rest_bp)
    app.register_blueprint(ws_bp)
    app.register_blueprint(docs_bp)
    app.register_blueprint(messenger_bp)
    app.register_blueprint(openapi_bp)  # the messenger adapter's own document
    messenger_schemas.document(app.view_functions)
