"""Web Push for programs and pages: the site's VAPID public key, and push subscriptions kept with
the session that registers them (app/notify/push_subscriptions.py holds the rules).

Nested in the REST blueprint (endpoints `api.push.*`, paths /api/v1/push/...), so its tokens,
JSON errors and OpenAPI document are the API's. One difference: a page registers its browser's
subscription with its cookie session, so these two routes also take the cookie, and then only
with the page's CSRF token in `X-CSRF-Token` and an Origin of this site (the rest of the API
never reads the cookie and needs no such token)."""
from __future__ import annotations

from functools import wraps

from pydantic import BaseModel, Field
from quart import Blueprint, current_app, g, request
from quart_auth import current_user
from quart_schema import (
    document_response,
    operation_id,
    security_scheme_blueprint,
    tag_blueprint,
    validate_request,
    validate_response,
)

from app.api import auth, errors
from app.api.schemas import Done, Envelope, ErrorBody, Request
from app.models import UserSession
from app.notify import push_keys, push_subscriptions
from app.web.security import csrf_matches, origin_allowed

bp = Blueprint("push", __name__, url_prefix="/push")
tag_blueprint(bp, ["api"])  # quart-schema reads these per blueprint, not from the parent
security_scheme_blueprint(bp, [{"bearer": []}])

CSRF_REFUSED = ("A browser's cookie is taken here only with the page's CSRF token in X-CSRF-Token, "
                "from this site's own pages; programs send `Authorization: Bearer <token>`.")


class PushKeys(Request):
    p256dh: str = Field(max_length=200, description="The browser's P-256 public key (65 bytes, base64url).")
    auth: str = Field(max_length=200, description="The browser's auth secret (16 bytes, base64url).")


class NewPushSubscription(Request):
    """A browser's `PushSubscription.toJSON()`."""
    endpoint: str = Field(max_length=4096, description="The push service's URL for this browser (https, public).")
    keys: PushKeys


class PushEndpoint(Request):
    endpoint: str = Field(max_length=4096)


class PushKey(BaseModel):
    public_key: str = Field(description="The site's VAPID public key: an uncompressed P-256 point in base64url, "
                                        "PushManager.subscribe's applicationServerKey.")


class PushSubscriptionInfo(BaseModel):
    id: int
    endpoint: str
    created: str | None
    last_sent: str | None


def documented(*codes: int, public: bool = False):
    """The error answers a view can give, as app/api/rest.py documents its own (401 unless public)."""
    def decorator(view):
        for code in ((*codes,) if public else (401, *codes)):
            view = document_response(ErrorBody, code)(view)
        if public:
            view.public = True
        return view
    return decorator


async def _cookie_session() -> UserSession | None:
    """The page's live browser session, from its cookie (kind web only)."""
    token = current_user.auth_id
    if not token:
        return None
    settings = current_app.config["HUDDLE"]
    found = await UserSession.from_token(token, idle=settings.session_idle_seconds,
                                         max_age=settings.session_max_age_seconds)
    if found is None or found.kind != "web":
        return None
    await found.touch()
    return found


def _csrf_sent() -> bool:
    return csrf_matches(request.headers.get("X-CSRF-Token", "")) and origin_allowed()


def token_or_page(view):
    """The bearer token's session, else the page's cookie session with its CSRF token; 401 for
    nobody, 403 for a cookie without the token; 415 for a body that is not JSON."""
    @wraps(view)
    async def wrapper(*args, **kwargs):
        if g.get("api_session") is None:
            found = await _cookie_session()
            if found is None:
                refused = errors.v1_error(401)
                refused.headers["WWW-Authenticate"] = 'Bearer realm="huddle"'
                return refused
            if not _csrf_sent():
                return errors.v1_error(403, CSRF_REFUSED)
            g.api_session = found
        if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
            return errors.v1_error(415)
        return await view(*args, **kwargs)

    wrapper.token_required = True
    return wrapper


@bp.get("/key")
@operation_id("getPushKey")
@validate_response(Envelope[PushKey])
@documented(public=True)
async def key():
    """The site's VAPID public key, to subscribe a browser with (`applicationServerKey`)."""
    return {"data": {"public_key": push_keys.keys(current_app.config["HUDDLE"]).public_key}}


@bp.post("/subscriptions")
@operation_id("subscribePush")
@token_or_page
@validate_request(NewPushSubscription)
@validate_response(Envelope[PushSubscriptionInfo], 201)
@validate_response(Envelope[PushSubscriptionInfo], 200)
@documented(403, 400, 413, 415, 422)
async def subscribe(data: NewPushSubscription):
    """Keep a browser's push subscription (`PushSubscription.toJSON()`) with this token's session
    (or the page's): pushes reach it until that session ends (logout, revocation, expiry).

    The endpoint must be https on a public address. The same endpoint again updates it (200);
    a person has at most 20 (422). A cookie is taken only with the page's `X-CSRF-Token`."""
    found, created = await push_subscriptions.subscribe(
        auth.current_session(), data.endpoint, data.keys.p256dh, data.keys.auth,
        user_agent=request.headers.get("User-Agent", ""), settings=current_app.config["HUDDLE"])
    return {"data": push_subscriptions.shape(found)}, 201 if created else 200


@bp.delete("/subscriptions")
@operation_id("unsubscribePush")
@token_or_page
@validate_request(PushEndpoint)
@validate_response(Envelope[Done], 200)
@documented(403, 404, 400, 413, 415, 422)
async def unsubscribe(data: PushEndpoint):
    """Remove one of my push subscriptions, by its endpoint (404 if none of mine has it)."""
    await push_subscriptions.unsubscribe(auth.current(), data.endpoint)
    return {"data": {"success": True}}
