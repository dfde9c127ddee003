"""Background work that must survive a restart, as a table of jobs: one worker task per process
(started and stopped with the app), each row claimed by one worker at a time.

A subclass names its table, which columns a claim returns, which rows are jobs (`where`), and
how one job is done (`work`) or, for a queue that claims several at once (`batch`), how the jobs
of one claim are done (`work_claimed`). The base claims rows in one statement (PostgreSQL:
`FOR UPDATE SKIP LOCKED`; SQLite has one writer), so several workers do each job once; a claim
lapses after CLAIM, so a worker killed mid-job loses nothing (the job is done again). A failure is
tried again with backoff (`retry`), at most MAX_ATTEMPTS times. Whatever a job announces, it does
in the app's context (`in_app`: the loop runs outside any request). Tests await `work_due()` to
do every due job, deterministically, with no loop running beside them.

Used by the file previews (app/files/worker.py), the link previews (app/links/worker.py) and the
Web Push deliveries (app/notify/push_worker.py, which claims in batches and keeps its own retries)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from quart import current_app, has_app_context
from tortoise import Tortoise

from app import clock

POLL_SECONDS = 5.0
CLAIM = timedelta(seconds=60)
MAX_ATTEMPTS = 3
ROUND = 50  # jobs a round does before looking whether it should stop
STOP_SECONDS = 5


def sql(conn, query: str) -> str:
    """A query written with ? placeholders, for the connection's database ($1… on PostgreSQL)."""
    if conn.capabilities.dialect != "postgres":
        return query
    first, *rest = query.split("?")
    return first + "".join(f"${number}{part}" for number, part in enumerate(rest, 1))


def backoff(attempts: int) -> int:
    """Seconds before try number attempts + 1: 10, 20, 40, 80…"""
    return 5 * 2 ** attempts


class ClaimedQueue:
    """The loop, the claim and the retry of a table of jobs (id, attempts, due_at, claimed_until)."""

    name = "jobs"  # the task's name, and what the log says failed
    table = ""
    columns = "id, attempts"  # what a claim returns (a dict per job)
    where = ""  # which rows are jobs besides being due and unclaimed: "state = 'pending' AND "
    batch = 1  # rows one claim takes
    round = ROUND  # jobs a round does before looking whether it should stop
    poll_seconds = POLL_SECONDS  # how often the loop looks for jobs other processes enqueued
    log = logging.getLogger("huddle.jobs")

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._app = None

    # --- what a subclass writes --------------------------------------------------------------------

    async def work(self, job: dict, claim: Any) -> None:
        """Do one claimed job: finish it (only while `claim` stands) or `retry` it."""
        raise NotImplementedError

    async def work_claimed(self, jobs: list[dict], claim: Any) -> None:
        """Do the jobs of one claim: by default one after the other (`work`)."""
        for job in jobs:
            await self.work(job, claim)

    async def between_rounds(self) -> None:
        """Called by the loop before each look for due jobs (housekeeping, say)."""

    async def prepare(self) -> None:
        """Called once at start, before the loop."""

    # --- the loop ----------------------------------------------------------------------------------

    def wake(self) -> None:
        """Something was enqueued in this process: work now rather than at the next look."""
        self._wake.set()

    async def start(self) -> None:
        self._app = current_app._get_current_object() if has_app_context() else None
        await self.prepare()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Let the round end; cancel the task only if it hangs longer than STOP_SECONDS. A job cut
        short is claimed again when its claim lapses."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_SECONDS)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        self._stopping = False

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            await self.between_rounds()
            try:
                done = await self.work_due()
            except Exception:  # noqa: BLE001 (the loop must outlive a database or storage outage)
                self.log.exception("%s failed; trying again in %s s", self.name, self.poll_seconds)
                done = 0
            if done >= self.round or self._stopping:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def work_due(self) -> int:
        """Claim and do due jobs, `batch` at a time, until none is due (or a `round` was done); how
        many. When a test awaits this, every due job is done (or failed, or put off) and announced."""
        async with self._lock:
            done = 0
            while done < self.round and not (self._stopping and done):
                jobs, claim = await self._claim()
                if not jobs:
                    break
                await self.work_claimed(jobs, claim)
                done += len(jobs)
            return done

    # --- claims ------------------------------------------------------------------------------------

    def _due(self) -> str:
        return (f"FROM {self.table} WHERE {self.where}due_at <= ? "
                "AND (claimed_until IS NULL OR claimed_until < ?)")

    async def _claim(self) -> tuple[list[dict], Any]:
        """Up to `batch` due rows, claimed until the time it returns with them (none: [], None)."""
        conn = Tortoise.get_connection("default")
        now = clock.now()
        # A read first: an idle site's look every few seconds writes nothing (no SQLite write lock).
        if not (await conn.execute_query(sql(conn, f"SELECT 1 {self._due()} LIMIT 1"), [now, now]))[1]:
            return [], None
        lock = " FOR UPDATE SKIP LOCKED" if conn.capabilities.dialect == "postgres" else ""
        until = now + CLAIM
        query = (f"UPDATE {self.table} SET claimed_until = ? WHERE id IN (SELECT id {self._due()} "
                 f"ORDER BY due_at, id LIMIT ?{lock}) RETURNING {self.columns}")
        rows = await conn.execute_query_dict(sql(conn, query), [until, now, now, self.batch])
        return rows, (until if rows else None)

    async def retry(self, job: dict, claim: Any, what: str) -> bool:
        """After a failure: due again after a backoff, while tries are left (True); False when this
        was the last (the caller fails the job for good). Logged with `what` (never a page body)."""
        attempts = job["attempts"] + 1
        self.log.exception("%s failed (try %s of %s)", what, attempts, MAX_ATTEMPTS)
        if attempts >= MAX_ATTEMPTS:
            return False
        conn = Tortoise.get_connection("default")
        due = clock.now() + timedelta(seconds=backoff(attempts))
        await conn.execute_query(sql(conn, (
            f"UPDATE {self.table} SET attempts = ?, due_at = ?, claimed_until = NULL "
            "WHERE id = ? AND claimed_until = ?")), [attempts, due, job["id"], claim])
        return True

    async def in_app(self, call: Callable[[], Awaitable[Any]]) -> Any:
        """Run call() inside the app's context (the loop runs outside any request)."""
        app = self._app or (current_app._get_current_object() if has_app_context() else None)
        if app is None or has_app_context():
            return await call()
        async with app.app_context():
            return await call()
