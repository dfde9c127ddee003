"""REST under /api/v1: its blueprint (tokens, JSON errors, the document's tag and scheme) and what
its views share. The views: app/api/rest.py (accounts; push nested) and rest_chat.py
(conversations, messages, mentions, search), both on this one blueprint, so every endpoint is
`api.<view>` wherever it is written."""
from __future__ import annotations

from pydantic import ValidationError
from quart import Blueprint, abort, request
from quart_schema import (
    RequestSchemaValidationError,
    document_response,
    security_scheme_blueprint,
    tag_blueprint,
)

from app.api import auth, errors
from app.api.schemas import ErrorBody

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(auth.load_token)
bp.before_request(auth.json_body_required(lambda: errors.v1_error(415)))
bp.before_request(auth.readable_body(lambda: errors.v1_error(400, errors.UNREADABLE)))
errors.init_blueprint(bp, errors.v1_error)
tag_blueprint(bp, ["api"])
security_scheme_blueprint(bp, [{"bearer": []}])

signed_in = auth.token_required(lambda: errors.v1_error(401))


def public(view):
    """No token needed (the OpenAPI document says so)."""
    view.public = True
    return view


def documented(*codes: int):
    """Document the error answers a view can give (all of them `{"error": ...}`)."""
    def decorator(view):
        for code in ((*codes,) if getattr(view, "public", False) else (401, *codes)):
            view = document_response(ErrorBody, code)(view)
        return view
    return decorator


async def optional_body(model):
    """For endpoints whose body may be left out: nothing is `{}`; anything else is JSON."""
    if not await request.get_data():
        return model()
    if request.mimetype != "application/json":
        abort(415)
    raw = await request.get_json()
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise RequestSchemaValidationError(error) from None


def user_agent() -> str:
    return request.headers.get("User-Agent", "")
