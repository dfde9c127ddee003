"""Web Push, as the notification service (app/notify/service.py) uses it: `send` a notification to
people's devices, `close` a conversation's notifications on them. Both only enqueue (rows of
push_deliveries, in the database, so a restart loses none) and wake this process's delivery
worker (app/notify/push_worker.py), which encrypts, signs and sends: never on the request path.

What a push carries is bounded whatever the message: the text cut to ~200 characters (none
with HUDDLE_PUSH_PREVIEW=off), so the encrypted body stays far under 3 KB; it lives 12 hours at
the push service (TTL), is `Urgency: high` for direct messages and mentions, and carries one
`Topic` and one notification `tag` per conversation, so a burst while a phone sleeps collapses
into one notification and a read on another device closes it."""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from app import clock
from app.models import PushDelivery, PushSubscription
from app.runtime import runtime
from app.web.urls import path_for

TTL = 12 * 3600
PREVIEW = 200
TITLE = 100
# The plaintext's bound: aes128gcm adds 86 bytes of header, a delimiter and a 16-byte tag, so a
# body under this stays under 3 KB encrypted, whatever the text holds.
MAX_PLAINTEXT = 2900
NO_PREVIEW = "New message"


@dataclass(frozen=True)
class Notification:
    conversation_id: int
    message_id: int | None
    title: str      # "#general" or the sender's name
    body: str       # the message text (cut to ~200 characters here; omitted when HUDDLE_PUSH_PREVIEW=off)
    url: str        # the path to open: the message's permalink
    urgent: bool    # direct messages and mentions: Urgency high


def tag(conversation_id: int) -> str:
    """The notification tag and the push service's Topic of a conversation (<= 32 characters of
    the base64url alphabet, as RFC 8030 asks of a Topic)."""
    return f"conversation-{int(conversation_id)}"


def _cut(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def payload(notification: Notification, *, preview: bool = True) -> str:
    """The JSON the service worker reads (app/notify/push_worker.py encrypts it per device)."""
    body = _cut(notification.body, PREVIEW) if preview else NO_PREVIEW
    data = {"title": _cut(notification.title, TITLE) or "Huddle", "body": body or NO_PREVIEW,
            "tag": tag(notification.conversation_id), "url": notification.url[:500],
            "conversation_id": notification.conversation_id, "message_id": notification.message_id,
            "renotify": bool(notification.urgent), "icon": path_for("static", filename="img/icon-192.png")}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    while len(text.encode()) > MAX_PLAINTEXT and len(data["body"]) > 1:  # only ever with odd input
        data["body"] = _cut(data["body"], len(data["body"]) // 2)
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text


def _live(subscriptions):
    """Subscriptions whose session is still alive (not idle or old past the settings): an expired
    session is gone for its subscriptions even before anyone deletes its row."""
    settings = runtime().settings
    now = clock.now()
    return subscriptions.filter(session__last_seen_at__gt=now - timedelta(seconds=settings.session_idle_seconds),
                                session__created_at__gt=now - timedelta(seconds=settings.session_max_age_seconds))


async def _enqueue(subscription_ids: list[int], text: str, topic: str, urgency: str) -> int:
    if not subscription_ids:
        return 0
    now = clock.now()
    await PushDelivery.bulk_create([
        PushDelivery(subscription_id=each, payload=text, topic=topic, urgency=urgency, ttl=TTL, due_at=now)
        for each in subscription_ids
    ])
    worker = runtime().push
    if worker is not None:
        worker.wake()
    return len(subscription_ids)


async def send(user_ids: Iterable[int], notification: Notification) -> int:
    """Enqueue one push per live subscription of these people; how many."""
    ids = sorted({int(each) for each in user_ids})
    if not ids:
        return 0
    subscriptions = await _live(PushSubscription.filter(user_id__in=ids)).values_list("id", flat=True)
    text = payload(notification, preview=runtime().settings.push_preview)
    return await _enqueue(list(subscriptions), text, tag(notification.conversation_id),
                          "high" if notification.urgent else "normal")


async def close(user_id: int, conversation_id: int) -> int:
    """Enqueue a "close" push to each device of this person: its service worker closes the
    conversation's notifications (read elsewhere). Its Topic is the conversation's, so a push
    service still holding an unsent notification of it replaces that with the close."""
    subscriptions = await _live(PushSubscription.filter(user_id=user_id)).values_list("id", flat=True)
    text = json.dumps({"close": tag(conversation_id)}, separators=(",", ":"))
    return await _enqueue(list(subscriptions), text, tag(conversation_id), "normal")
