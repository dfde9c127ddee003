"""CSRF, Origin checks, login throttling and browser hardening headers, in one place."""
from __future__ import annotations

import base64
import binascii
import hmac
import secrets

from quart import Quart, Response, abort, current_app, has_request_context, request, session, websocket

from app.web import htmx, streaming
from app.web.urls import is_api_path

EXPIRED = "This form has expired. Reload the page and try again."

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",  # the service worker (/service-worker.js), Web Push's receiver
        "manifest-src 'self'",  # /manifest.webmanifest: installing Huddle
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def csrf_token() -> str:
    """The per-browser token every unsafe request must echo (form field or X-CSRF-Token)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def masked(token: str) -> str:
    """The token as a page carries it: XORed with a fresh random pad, the pad in front, so no two
    responses carry the same bytes. Pages are compressed (app/web/compression.py), and a page that
    echoes what an attacker typed beside a constant secret would let its compressed size tell the
    secret (BREACH); masked, the secret is never constant in a body."""
    raw = token.encode()
    pad = secrets.token_bytes(len(raw))
    return base64.urlsafe_b64encode(pad + bytes(a ^ b for a, b in zip(raw, pad, strict=True))).decode().rstrip("=")


def unmasked(sent: str) -> bytes | None:
    """The token a masked value carries (None if it is not one)."""
    try:
        data = base64.urlsafe_b64decode(sent + "=" * (-len(sent) % 4))
    except (ValueError, binascii.Error):
        return None
    half = len(data) // 2
    if not half or len(data) % 2:
        return None
    return bytes(a ^ b for a, b in zip(data[half:], data[:half], strict=True))


def rotate_csrf_token() -> None:
    """A new token at login and logout, so a token seen before does not outlive the session."""
    session["csrf"] = secrets.token_urlsafe(32)


def same_origin(origin: str, host: str | None = None) -> bool:
    """Is this Origin header our own site: the scheme, host and port of HUDDLE_BASE_URL (or of
    a trusted alias)? The Host header is never the reference: an attacker's page reached
    through DNS rebinding sends its own name as both Host and Origin."""
    return origin in current_app.config["HUDDLE"].allowed_origins()


def origin_allowed() -> bool:
    origin = request.headers.get("Origin")
    if origin is not None:
        return same_origin(origin)
    # Browsers that send no Origin still say where a request came from.
    return request.headers.get("Sec-Fetch-Site", "same-origin") in {"same-origin", "none"}


def host_allowed(host: str) -> bool:
    return host.lower() in current_app.config["HUDDLE"].allowed_hosts()


async def check_host() -> None:
    """before_request / before_websocket: only answer for the names this site is served at."""
    if not host_allowed(request.host if has_request_context() else websocket.host):
        abort(400, description=(
            f"This Huddle is served at {current_app.config['HUDDLE'].base_url}: open it there."
        ))


async def check_csrf() -> None:
    """before_request: refuse an unsafe request without our token or from another site."""
    if request.method in SAFE_METHODS:
        return
    if is_api_path(request.path):
        # The API never reads the cookie (a bearer token is something another site's page
        # cannot send for you), so it needs no CSRF token; it only takes JSON, which another
        # site cannot send without a CORS preflight that Huddle never allows.
        return
    if not origin_allowed():
        abort(403, description="This request came from another site and was refused.")
    sent = request.headers.get("X-CSRF-Token")
    if sent is None:
        if streaming.is_streamed():
            return  # its reader checks the form's token as it streams in (app/web/streaming.py)
        form = await request.form
        sent = form.get("csrf_token")
    check_csrf_token(sent)


def csrf_matches(sent: str | None) -> bool:
    """Is sent this browser's token: masked as pages carry it (masked), or as it is (a form
    rendered before masking)? Compared as bytes in constant time. THE check: forms, htmx's header
    and the API's cookie door (app/api/push.py) all ask it."""
    expected = session.get("csrf")
    if not sent or not expected or not isinstance(sent, str) or not sent.isascii():
        return False
    token, wanted = unmasked(sent) or b"", str(expected).encode()
    return hmac.compare_digest(token, wanted) or hmac.compare_digest(sent.encode(), wanted)


def check_csrf_token(sent: str | None) -> None:
    """403 unless sent is this browser's token."""
    if not csrf_matches(sent):
        abort(403, description=EXPIRED)


async def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if response.mimetype == "text/html" or request.method not in SAFE_METHODS or is_api_path(request.path):
        # Pages show private data: never keep them in a shared or back/forward cache.
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Quart) -> None:
    streaming.init_app(app)  # uploads read as they stream, with their own limit
    app.before_request(check_host)
    app.before_websocket(check_host)
    app.before_request(check_csrf)
    app.after_request(add_security_headers)

    @app.before_serving
    async def processors_in_place() -> None:  # every blueprint is registered by then
        htmx.context_processors_in_place(app)

    @app.context_processor
    async def csrf_context() -> dict:
        # A value for the page being rendered, not a function a fragment could call: a fragment
        # rendered once for a broadcast (outside any request) simply has no token in it.
        # The API renders only broadcast fragments, and must not start a cookie session doing so.
        # Async on purpose: Quart runs a plain function processor in its thread pool, a thread
        # hop on every render (a tenth of the room page's CPU in a profile).
        return {"csrf_token": masked(csrf_token())} if has_request_context() and not is_api_path(request.path) else {}
