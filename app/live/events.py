"""What the app publishes on the live channel: each event is rendered once, here, then handed to
the broker. Services call these after their transaction commits; nothing here imports a route."""
from __future__ import annotations

from quart import current_app

LOGOUT_REASONS = {
    "deleted": "Your account was deleted.",
    "revoked": "You were logged out from another device.",
    "password": "Your password was changed. Please log in again.",
    "expired": "Your session has ended. Please log in again.",
}


async def _publish(topic: str, payload: str) -> None:
    await current_app.extensions["broker"].publish(topic, payload)


async def force_logout(topic: str, reason: str) -> None:
    """Every page listening on topic (`user:<id>` or `session:<id>`) goes to the login page."""
    await _publish(topic, f"logout:{reason}")


async def reload_scope(topic: str, scope: str) -> None:
    """Pages of a scope (e.g. admin) reload, so the server re-decides what they may show."""
    await _publish(topic, f"reload:{scope}")
