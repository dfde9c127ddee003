"""The admin page's Web Push status: how deliveries have ended (push_counts, written by
app/notify/push_worker.py), what is queued and how many devices are subscribed. Read only."""
from __future__ import annotations

from app.models import PushCount, PushDelivery, PushSubscription

# Each outcome the delivery worker counts, and what it means, in the order shown.
OUTCOMES = (
    ("sent", "Sent", "accepted by the push service"),
    ("retried", "Retried", "no answer or a 5xx: tried again later"),
    ("throttled", "Throttled", "429: tried again after Retry-After"),
    ("failed", "Failed", "dropped after 5 tries"),
    ("gone", "Gone", "404/410: the subscription was deleted"),
    ("rejected", "Rejected", "400, 413 or another refusal: dropped"),
    ("blocked", "Blocked", "the endpoint no longer resolves to a public address"),
    ("expired", "Session ended", "its session had expired: the subscription was deleted"),
    ("stale", "Too old", "still queued past its 12-hour lifetime"),
)


async def status() -> dict:
    counts = {row.outcome: row.count for row in await PushCount.all()}
    return {
        "outcomes": [(label, counts.get(key, 0), meaning) for key, label, meaning in OUTCOMES],
        "queued": await PushDelivery.all().count(),
        "subscriptions": await PushSubscription.all().count(),
    }
