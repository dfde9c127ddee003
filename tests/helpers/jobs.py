"""What the workers of a claimed queue (app/jobs.py ClaimedQueue) claim, counted: for the tests where
several workers share one database and each job must be claimed once, by one of them."""
from __future__ import annotations


def count_claims(queue: type) -> tuple[list[int], dict[int, int]]:
    """From now on in this process, every row id a worker of this class claims (its loop's rounds
    included), and how many claims that took something each worker made (keyed by id(worker))."""
    claimed: list[int] = []
    by_worker: dict[int, int] = {}
    claim = queue._claim

    async def counted(self):
        jobs, until = await claim(self)
        if jobs:
            claimed.extend(job["id"] for job in jobs)
            by_worker[id(self)] = by_worker.get(id(self), 0) + 1
        return jobs, until

    queue._claim = counted
    return claimed, by_worker
