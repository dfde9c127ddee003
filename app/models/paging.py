"""Keyset pages, newest first: the one way lists (audit log, feedback, later chat) are paged."""
from __future__ import annotations

from typing import Any

from tortoise.queryset import QuerySet

from app.domain import storable


async def page(query: QuerySet, *, before: int | None, size: int) -> tuple[list[Any], int | None]:
    """Up to `size` rows of query with an id below `before` (all, when None), newest first, and the
    cursor of the next page (the last id shown), or None when this is the last page."""
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(size + 1)  # one more than shown: is there a next page?
    shown = rows[:size]
    return shown, (shown[-1].id if len(rows) > size else None)


async def page_by_name(query: QuerySet, *, after: str | None, size: int, field: str = "username_key",
                       start_at: str | None = None) -> tuple[list[Any], str | None]:
    """Up to `size` rows in name order after `after` (or from `start_at`, inclusive), and the
    cursor of the next page, or None. Keyset: the same cost on page 1 and page 100. A cursor no
    row could have (longer than the column, or text no database keeps) is ignored, like a bad
    `before` id: the first page."""
    limit = getattr(query.model._meta.fields_map[field], "max_length", None)
    if after and (not storable(after) or limit is not None and len(after) > limit):
        after = None
    if after:
        query = query.filter(**{f"{field}__gt": after})
    elif start_at:
        query = query.filter(**{f"{field}__gte": start_at})
    rows = await query.order_by(field).limit(size + 1)
    shown = rows[:size]
    return shown, (getattr(shown[-1], field) if len(rows) > size else None)
