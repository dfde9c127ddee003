"""The SQL a piece of code sends, as Tortoise's database clients log every statement they run
(the `tortoise.db_client` logger, at DEBUG: SQLite and PostgreSQL alike), so a test can count a
page's queries: `with counted() as sql: ...; assert len(sql) == 4`."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

LOGGER = "tortoise.db_client"


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        first = record.args[0] if isinstance(record.args, tuple) and record.args else record.msg
        self.statements.append(" ".join(str(first).split()))


@contextmanager
def counted() -> Iterator[list[str]]:
    """The statements sent to the database inside the block, in order (one string each)."""
    log = logging.getLogger(LOGGER)
    recorder, level = _Recorder(), log.level
    log.addHandler(recorder)
    log.setLevel(logging.DEBUG)
    try:
        yield recorder.statements
    finally:
        log.removeHandler(recorder)
        log.setLevel(level)
