"""What a test does when PostgreSQL, Redis or redis-server is missing: it skips on a developer's
machine, and fails where the services are promised (CI, or HUDDLE_REQUIRE_SERVICES=1 as .ci/run
sets), so a missing service never passes for a green run."""
from __future__ import annotations

import os
from typing import NoReturn

import pytest


def required() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("HUDDLE_REQUIRE_SERVICES", "") not in ("", "0")


def missing(message: str) -> NoReturn:
    """Call from the except clause that caught the connection error (it is chained to the failure)."""
    if required():
        pytest.fail(f"{message} (required here: CI or HUDDLE_REQUIRE_SERVICES=1)")
    pytest.skip(message)
