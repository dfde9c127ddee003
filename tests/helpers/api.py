"""A program's view of Huddle: JSON requests with a bearer token, and the JSON websocket."""
from __future__ import annotations

import asyncio
import contextlib
import json

from tests.helpers import PASSWORD


class Api:
    """A JSON client through Quart's test client; `token` goes in the Authorization header."""

    def __init__(self, app, token: str | None = None) -> None:
        self.raw = app.test_client()
        self.token = token

    def headers(self, extra: dict | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    async def call(self, method: str, path: str, body=None, *, headers: dict | None = None, **kwargs):
        """(status, parsed JSON body, response); the body must be JSON whatever happened."""
        if body is not None:
            kwargs["json"] = body
        response = await self.raw.open(path, method=method, headers=self.headers(headers), **kwargs)
        text = await response.get_data(as_text=True)
        assert response.mimetype == "application/json", f"{method} {path}: {response.status_code} {text[:200]}"
        assert "Traceback" not in text
        return response.status_code, json.loads(text), response

    async def get(self, path: str, **kwargs):
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, body=None, **kwargs):
        return await self.call("POST", path, body, **kwargs)

    async def patch(self, path: str, body=None, **kwargs):
        return await self.call("PATCH", path, body, **kwargs)

    async def put(self, path: str, body=None, **kwargs):
        return await self.call("PUT", path, body, **kwargs)

    async def delete(self, path: str, **kwargs):
        return await self.call("DELETE", path, **kwargs)


async def api_login(app, username: str, password: str = PASSWORD) -> Api:
    api = Api(app)
    status, body, _ = await api.post("/api/v1/login", {"username": username, "password": password})
    assert status == 200, body
    api.token = body["data"]["token"]
    return api


@contextlib.asynccontextmanager
async def json_socket(app, headers: dict | None = None):
    """An open /api/v1/ws, not yet authenticated."""
    async with app.test_client().websocket("/api/v1/ws", headers=headers or {}) as socket:
        yield socket


async def act(socket, action: str, data: dict | None = None, timeout: float = 3.0) -> dict:
    """Send an action and return its answer (skipping pushed events meanwhile)."""
    await socket.send(json.dumps({"action": action, "data": data or {}}))
    return await frame_where(socket, lambda f: f.get("action") == action and ("data" in f or "error" in f)
                             and not f["action"].startswith("message."), timeout)


async def frame_where(socket, test, timeout: float = 3.0) -> dict:
    async def scan():
        while True:
            frame = json.loads(await socket.receive())
            if test(frame):
                return frame
    return await asyncio.wait_for(scan(), timeout)


async def pushed(socket, action: str, timeout: float = 3.0) -> dict:
    return await frame_where(socket, lambda f: f.get("action") == action, timeout)


@contextlib.asynccontextmanager
async def messenger_socket(app, token: str):
    """The messenger socket, authenticated with this token (its answer read)."""
    async with app.test_client().websocket("/api/messenger/websocket") as socket:
        assert json.loads(await socket.receive()) == {"Message": "Websocket Open"}
        await socket.send(token)
        # The answer comes first, before the presence its authentication caused.
        assert json.loads(await socket.receive()) == {"Message": "Websocket Authenticated"}
        yield socket
