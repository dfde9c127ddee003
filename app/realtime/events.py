"""What the app publishes on the live channel. Each event is rendered here, once, whoever will
receive it, then handed to the broker. Services call these after their transaction commits;
nothing here imports a route or a socket module."""
from __future__ import annotations

from collections.abc import Iterable

from quart import render_template

from app import clock
from app.models import User
from app.realtime.broker import Event
from app.runtime import runtime

LOGOUT_REASONS = {
    "deleted": "Your account was deleted.",
    "revoked": "You were logged out from another device.",
    "password": "Your password was changed. Please log in again.",
    "expired": "Your session has ended. Please log in again.",
}


async def publish(event: Event) -> None:
    await runtime().broker.publish(event)


async def logout(topic: str, reason: str) -> Event:
    """The page goes to the login page (saying why); then its socket closes for good (1000)."""
    html = await render_template("live/_control.html", action="logout", reason=reason)
    return Event("logout", topic, html=html, data={"reason": reason}, close=1000)


async def force_logout(topic: str, reason: str) -> None:
    """Every page listening on topic (`user:<id>` or `session:<id>`) goes to the login page."""
    await publish(await logout(topic, reason))


async def reload_scope(topic: str, scope: str) -> None:
    """Pages of a scope (e.g. admin) reload, so the server re-decides what they may show."""
    html = await render_template("live/_control.html", action="reload", scope=scope)
    await publish(Event("reload", topic, html=html, data={"scope": scope}))


def closing(code: int) -> Event:
    """For one socket only (never published): close with this code."""
    return Event("close", "", close=code)


async def presence(online: Iterable[int], offline: Iterable[int], *, snapshot: bool = False) -> Event:
    """Who is online among some people: one small element, applied to every badge of theirs.
    A snapshot answers one page's hello (never published); a change goes to every page."""
    online, offline = sorted(online), sorted(offline)
    html = await render_template("live/_presence.html", online=online, offline=offline, snapshot=snapshot)
    return Event("presence", "" if snapshot else "presence", html=html, data={"online": online, "offline": offline})


async def presence_changed(user_id: int, online: bool) -> None:
    await publish(await presence([user_id] if online else [], [] if online else [user_id]))


async def people_changed() -> None:
    """Someone joined, left, was renamed or became (or stopped being) an administrator: every
    open page that lists people (the team page, the chat sidebar) fetches its list again."""
    html = await render_template("live/_people.html")
    await publish(Event("people", "presence", html=html))


async def online_ids(user_ids: Iterable[int]) -> set[int]:
    """For a page about to render badges: which of these people are online now."""
    return await runtime().presence.online(user_ids)


async def went_offline(user_id: int) -> None:
    """Presence's hook, once a user's last page has been gone for the grace period."""
    await User.filter(id=user_id).update(last_seen_at=clock.now())
    await presence_changed(user_id, False)


async def names(labels, *, snapshot: bool = False) -> Event:
    """What people are called now (app/models/names.Label): one small element that
    static/js/names.js applies to every [data-name-of] and [data-handle-of] on the page. A
    snapshot answers one page's hello (never published: a page that reconnects after a rename
    learns it there); a change goes to every page and program, one event naming everyone whose
    name (or @username beside it) changed."""
    rows = [[label.id, label.name, label.username, label.handle] for label in labels]
    html = await render_template("live/_names.html", rows=rows, snapshot=snapshot)
    data = {"users": [{"id": label.id, "username": label.username, "display_name": label.display_name}
                      for label in labels]}
    return Event("user.changed", "" if snapshot else "presence", html=html, data=data)


async def names_changed(labels) -> None:
    """These people's names (or whether their @username must show beside it) changed."""
    if labels:
        await publish(await names(labels))
