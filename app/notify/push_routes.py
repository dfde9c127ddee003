"""Web Push on the pages: the account page's "Notifications on this device" section, the service
worker (served at the root, so its scope is the whole site) and the web app manifest that makes
Huddle installable (on iPhone and iPad, Web Push works only in an installed app)."""
from __future__ import annotations

from quart import Blueprint, Response, current_app, json, send_file, url_for

from app.accounts import auth
from app.config import ROOT
from app.notify import push_keys
from app.web.htmx import render

bp = Blueprint("push", __name__)

SERVICE_WORKER = ROOT / "static" / "js" / "service-worker.js"
THEME = "#2f6f5e"  # the favicon's green
BACKGROUND = "#f6f7f9"  # the pages' light background (static/css/huddle.css --bg)


@bp.get("/account/notifications")
@auth.login_required
async def settings() -> Response:
    """This device's notifications: turn them on (the browser asks for permission only then) or off."""
    return await render("push/settings.html", public_key=push_keys.keys(current_app.config["HUDDLE"]).public_key)


@bp.get("/service-worker.js")
async def service_worker() -> Response:
    """The service worker (static/js/service-worker.js) at the root: its scope is every page."""
    response = await send_file(SERVICE_WORKER, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"  # a new version reaches browsers at their next check
    return response


@bp.get("/manifest.webmanifest")
async def manifest() -> Response:
    """What installing Huddle makes: its name, icons, colours and the page it opens on."""
    def icon(name: str, size: int, purpose: str) -> dict:
        return {"src": url_for("static", filename=f"img/{name}"), "sizes": f"{size}x{size}", "type": "image/png",
                "purpose": purpose}

    body = {
        "name": "Huddle", "short_name": "Huddle", "description": "Team chat",
        "id": url_for("chat.index"), "start_url": url_for("chat.index"), "scope": url_for("home.index"),
        "display": "standalone", "theme_color": THEME, "background_color": BACKGROUND,
        "icons": [icon("icon-192.png", 192, "any"), icon("icon-512.png", 512, "any"),
                  icon("icon-maskable-512.png", 512, "maskable")],
    }
    response = Response(json.dumps(body), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response
