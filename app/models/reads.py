"""Hot reads in plain SQL: the rows the ORM would fetch, without building the query each time.

Tortoise builds every queryset through pypika on every call: on the room page that was about
0.4 ms of CPU a query, more than SQLite spent answering it. These strings are written once; rows
become model instances the way Tortoise's executor makes them (app/compat.py model_from_row), so
callers and templates get the same objects as before. Only reads live here; writes and anything
with rules stay in the models and services.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from tortoise import Tortoise
from tortoise.models import Model

from app.compat import model_columns, model_from_row


def _connection():
    return Tortoise.get_connection("default")


@lru_cache(maxsize=256)
def _prepared(dialect: str, query: str) -> str:
    """`?` placeholders in the connection's style (asyncpg's are $1, $2, ...), worked out once."""
    if dialect != "postgres":
        return query
    first, *rest = query.split("?")
    return first + "".join(f"${number}{part}" for number, part in enumerate(rest, 1))


async def rows(query: str, params: list[Any]) -> list[dict]:
    conn = _connection()
    return await conn.execute_query_dict(_prepared(conn.capabilities.dialect, query), params)


@lru_cache(maxsize=64)
def columns(model: type[Model], alias: str, prefix: str = "") -> str:
    """`alias.col AS prefix_col, ...` for every column of model."""
    return ", ".join(f'{alias}."{column}" AS "{prefix}{column}"' for column in sorted(model_columns(model)))


def instance(model: type[Model], row: dict, prefix: str = "") -> Model:
    """A model instance from a row's prefixed columns, as Tortoise itself makes one."""
    if not prefix:
        return model_from_row(model, {column: row[column] for column in model_columns(model)})
    return model_from_row(model, {column: row[prefix + column] for column in model_columns(model)})
