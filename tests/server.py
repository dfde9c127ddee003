"""Moved to tests/helpers/server.py; this alias is kept only for bench/fanout.py. Tests import
tests.helpers.server."""
from tests.helpers.server import Server  # noqa: F401
