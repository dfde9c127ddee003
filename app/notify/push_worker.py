"""Delivering the queued pushes: one worker task per process, started and stopped with the app, on
the claimed-queue base (app/jobs.py) like the file and link previews.

It claims due rows of push_deliveries, BATCH at a time, in one statement (PostgreSQL: `FOR UPDATE
SKIP LOCKED`; SQLite has one writer), so two workers never send one push; a claim lapses after a
minute, so a worker killed mid-send loses nothing (the row is sent again; a push service may then
show it twice, never zero times). It wakes at once when this process enqueues (`wake`) and looks at
the table every few seconds for what other workers enqueued or what is due again. The pushes of a
claim are sent side by side (at most CONCURRENCY at once), then their outcomes written together.

Each push is encrypted for its device (aes128gcm, pywebpush), signed (VAPID, app/notify/push_keys.py)
and POSTed to an endpoint checked again now (app/notify/push_endpoints.py), redirects never
followed. The push service's answer decides: 2xx sent; 404/410 the subscription is gone and
deleted at once; 429 waits for Retry-After (seconds or an HTTP date); 5xx or no answer is tried
again with exponential backoff, at most MAX_ATTEMPTS times, then dropped and logged; any other
answer (400, 413, ...) is dropped and logged. Every outcome is counted (push_counts), for the
admin page."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import aiohttp
from pywebpush import WebPusher
from tortoise import Tortoise

from app import clock, jobs
from app.config import Settings, url_origin
from app.jobs import backoff
from app.models import PushDelivery, PushSubscription
from app.notify import push_endpoints, push_keys

__all__ = ["BATCH", "MAX_ATTEMPTS", "PushWorker", "backoff", "retry_after"]

POLL_SECONDS = 3.0
BATCH = 200
TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)
CONCURRENCY = 32
MAX_ATTEMPTS = 5
RETRY_AFTER_DEFAULT = 60
COUNT_SQL = ('INSERT INTO push_counts (outcome, "count") VALUES (?, ?) ON CONFLICT (outcome) '
             'DO UPDATE SET "count" = push_counts."count" + excluded."count"')


def retry_after(value: str | None, now: datetime) -> int:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date; a minute
    when missing or unreadable, never more than a push lives (TTL)."""
    seconds = RETRY_AFTER_DEFAULT
    if value:
        value = value.strip()
        if value.isdigit():
            seconds = int(value)
        else:
            with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
                when = parsedate_to_datetime(value)
                seconds = int((when.astimezone(UTC) - now).total_seconds()) if when.tzinfo else seconds
    return max(1, min(seconds, 12 * 3600))


class PushWorker(jobs.ClaimedQueue):
    name = "push delivery"
    table = "push_deliveries"
    columns = "id, subscription_id, payload, topic, urgency, ttl, attempts, created_at"
    batch = round = BATCH  # one claim a round: a full one means more may be due at once
    poll_seconds = POLL_SECONDS
    log = logging.getLogger("huddle.push")

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._pinned: aiohttp.ClientSession | None = None
        self._plain: aiohttp.ClientSession | None = None

    def _sessions(self) -> tuple[aiohttp.ClientSession, aiohttp.ClientSession]:
        if self._pinned is None or self._plain is None:
            # Public endpoints: names resolved only through the checking resolver, no DNS cache.
            pinned = aiohttp.TCPConnector(resolver=push_endpoints.PinnedResolver(), use_dns_cache=False,
                                          limit=CONCURRENCY)
            self._pinned = aiohttp.ClientSession(connector=pinned, timeout=TIMEOUT, auto_decompress=False)
            # HUDDLE_PUSH_ALLOWED_ORIGINS: the operator vouched for these.
            self._plain = aiohttp.ClientSession(timeout=TIMEOUT, auto_decompress=False)
        return self._pinned, self._plain

    async def prepare(self) -> None:
        push_keys.keys(self.settings)  # a bad HUDDLE_VAPID_PRIVATE_KEY stops the start, named

    async def stop(self) -> None:
        """The loop ends as the base's does (then its HTTP sessions close)."""
        await super().stop()
        for session in (self._pinned, self._plain):
            if session is not None:
                await session.close()
        self._pinned = self._plain = None

    async def deliver_due(self) -> int:
        """Send what is due (`work_due`); how many pushes were handled. Rounds of one process take
        turns, so when a test awaits this, whatever was due has been sent when it returns."""
        return await self.work_due()

    async def work_claimed(self, rows: list[dict], claim: object) -> None:
        """Send the pushes of one claim side by side, then write their outcomes."""
        subscriptions = {each.id: each for each in await PushSubscription.filter(
            id__in=sorted({row["subscription_id"] for row in rows})).select_related("session")}
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(row: dict) -> tuple[dict, str, int]:
            async with gate:
                try:
                    return await self._deliver(row, subscriptions.get(row["subscription_id"]))
                except Exception:  # noqa: BLE001 (one bad push must not stop the others)
                    self.log.exception("push %s failed", row["id"])
                    return row, "retried", backoff(row["attempts"] + 1)

        await self._record(await asyncio.gather(*(one(row) for row in rows)))

    def _alive(self, subscription: PushSubscription, now: datetime) -> bool:
        session = subscription.session
        return (now - session.last_seen_at < timedelta(seconds=self.settings.session_idle_seconds)
                and now - session.created_at < timedelta(seconds=self.settings.session_max_age_seconds))

    async def _deliver(self, row: dict, subscription: PushSubscription | None) -> tuple[dict, str, int]:
        """(row, outcome, seconds until the next try when there is one)."""
        now = clock.now()
        if subscription is None:
            return row, "gone", 0
        if not self._alive(subscription, now):
            return row, "expired", 0
        created = row["created_at"]
        if isinstance(created, str):
            created = datetime.fromisoformat(created)
        if created.tzinfo is not None and now - created > timedelta(seconds=row["ttl"]):
            return row, "stale", 0
        origin = url_origin(subscription.endpoint) or "?"
        try:
            host, port, allowed = push_endpoints.parse(subscription.endpoint, self.settings)
            if not allowed:
                await push_endpoints.public_addresses(host, port)
        except push_endpoints.Refused as refused:
            self.log.warning("push to %s refused: %s", origin, refused)
            return row, "blocked", 0
        try:
            status, wait = await self._post(subscription, row, allowed)
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            self.log.info("push to %s failed: %s", origin, error.__class__.__name__)
            status, wait = 0, None
        if 200 <= status < 300:
            return row, "sent", 0
        if status in (404, 410):
            return row, "gone", 0
        if status == 429:
            return row, "throttled", retry_after(wait, now)
        if status == 0 or status >= 500:
            return row, "retried", backoff(row["attempts"] + 1)
        self.log.warning("push to %s dropped: the push service answered %s", origin, status)
        return row, "rejected", 0

    async def _post(self, subscription: PushSubscription, row: dict, allowed: bool) -> tuple[int, str | None]:
        info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
        body = WebPusher(info).encode(row["payload"].encode(), "aes128gcm")["body"]
        headers = {
            "Authorization": push_keys.keys(self.settings).authorization(subscription.endpoint),
            "TTL": str(row["ttl"]), "Urgency": row["urgency"], "Topic": row["topic"],
            "Content-Encoding": "aes128gcm", "Content-Type": "application/octet-stream",
        }
        pinned, plain = self._sessions()
        session = plain if allowed else pinned
        async with session.post(subscription.endpoint, data=body, headers=headers, allow_redirects=False) as answer:
            await answer.read()
            return answer.status, answer.headers.get("Retry-After")

    async def _record(self, outcomes: list[tuple[dict, str, int]]) -> None:
        """Write each outcome: the row done, the subscription gone, or a later try; then count."""
        now = clock.now()
        counts: Counter[str] = Counter()
        done, dead_subscriptions, sent_to = [], set(), set()
        for row, outcome, wait in outcomes:
            if outcome in ("retried", "throttled") and row["attempts"] + 1 >= MAX_ATTEMPTS:
                self.log.warning("push %s dropped after %s tries", row["id"], MAX_ATTEMPTS)
                outcome = "failed"
            counts[outcome] += 1
            if outcome in ("retried", "throttled"):
                await PushDelivery.filter(id=row["id"]).update(
                    attempts=row["attempts"] + 1, due_at=now + timedelta(seconds=wait), claimed_until=None)
                continue
            done.append(row["id"])
            if outcome in ("gone", "expired", "blocked"):
                dead_subscriptions.add(row["subscription_id"])
            elif outcome == "sent":
                sent_to.add(row["subscription_id"])
        if done:
            await PushDelivery.filter(id__in=done).delete()
        if dead_subscriptions:
            await PushSubscription.filter(id__in=dead_subscriptions).delete()
        if sent_to:
            await PushSubscription.filter(id__in=sent_to).update(last_sent_at=now)
        conn = Tortoise.get_connection("default")
        for outcome, number in sorted(counts.items()):
            await conn.execute_query(jobs.sql(conn, COUNT_SQL), [outcome, number])
