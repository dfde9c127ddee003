"""What the two program websockets (the JSON websocket, /api/v1/ws, and the messenger adapter's,
/api/messenger/websocket) say alike, as a dialect of the one live connection
(app/realtime/connection.py): cookie-less sockets that a token authenticates after they open,
within AUTH_SECONDS, with bigger frames and a faster flood bucket than a page's."""
from __future__ import annotations

from quart import abort, websocket

from app.api import tokens
from app.chat.live import rooms
from app.realtime import serving
from app.realtime.connection import Connection, Dialect
from app.realtime.cursor import TooFarBehind
from app.web.security import same_origin

AUTH_SECONDS = 10          # an unauthenticated socket is closed after this long
MAX_FRAME = 16 * 1024      # a frame larger than this is refused (1009); Hypercorn caps it at 64 KiB


class ProgramDialect:
    rooms = rooms
    frame_burst = 40
    frames_per_second = 10
    max_frame = MAX_FRAME

    @property
    def auth_seconds(self) -> float:
        return AUTH_SECONDS  # read at use, so a test may shorten it

    async def opened(self, conn: Connection) -> None:
        pass

    async def too_far_behind(self, conn: Connection, behind: TooFarBehind) -> bool:
        return False  # programs are told per conversation (resync), never reloaded

    async def resolve(self, token: str):
        return await resolve_token(token)


async def resolve_token(token) -> object | None:
    return await tokens.resolve(token if isinstance(token, str) else None)


async def serve(dialect: Dialect) -> None:
    """Accept a program socket (Origin, if sent, must be ours), then run it until it ends."""
    origin = websocket.headers.get("Origin")
    if origin is not None and not same_origin(origin):
        abort(403)  # a page of another site may not drive a socket here (and no cookie counts anyway)
    await serving.serve(dialect)
