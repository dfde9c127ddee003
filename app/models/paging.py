"""Keyset pages, newest first: the one way lists (audit log, feedback, later chat) are paged."""
from __future__ import annotations

from typing import Any

from tortoise.queryset import QuerySet


async def page(query: QuerySet, *, before: int | None, size: int) -> tuple[list[Any], int | None]:
    """Up to `size` rows of query with an id below `before` (all, when None), newest first, and the
    cursor of the next page (the last id shown), or None when this is the last page."""
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(size + 1)  # one more than shown: is there a next page?
    shown = rows[:size]
    return shown, (shown[-1].id if len(rows) > size else None)
