"""For load balancers: /healthz (the process answers) and /readyz (it can reach its database and
its broker). Neither needs a login, and neither says more than ok or what is down."""
from __future__ import annotations

from quart import Blueprint, Response
from tortoise import Tortoise

from app.runtime import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
async def healthz() -> Response:
    """Alive: this worker's event loop answers."""
    return Response("ok\n", content_type="text/plain")


@bp.get("/readyz")
async def readyz() -> Response:
    """Ready for traffic: the database answers a query and the broker is reachable."""
    down = []
    try:
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means "not ready", which is the answer
        down.append("database")
    ping = getattr(runtime().broker, "ping", None)
    if ping is not None and not await ping():
        down.append("broker")
    if down:
        return Response(f"unavailable: {', '.join(down)}\n", status=503, content_type="text/plain",
                        headers={"Retry-After": "5"})
    return Response("ok\n", content_type="text/plain")
