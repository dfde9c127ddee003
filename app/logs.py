"""Logs as one JSON object a line, when asked for (HUDDLE_LOG_FORMAT=json, or `make run
LOGS=json`): Huddle's own lines, and Hypercorn's access and error logs through its
`--log-config json:app/logging.json`. Access lines carry the request as fields, not a sentence.

Whatever the format, every access line goes through AccessFilter first: secrets in paths, query
strings and referrers (reset and invitation tokens) are replaced by a marker, and control
characters and quotes are escaped, so a request cannot forge a line of its own (`%0A`) and a
log reader cannot reset someone's password with what the log kept."""
from __future__ import annotations

import json
import logging
import re
import time

# Hypercorn's access-log atoms worth a field of their own.
ACCESS_FIELDS = {"h": "remote", "m": "method", "U": "path", "q": "query", "s": "status", "b": "bytes",
                 "a": "user_agent", "H": "protocol"}


HIDDEN = "[hidden]"
# Paths whose last part is a secret, and query parameters that carry one.
SECRET_PATH = re.compile(r"(/password/reset/|/join/)[^/?#\s\"]+")
SECRET_PARAM = re.compile(r"(?i)((?:^|[?&])(?:token|invitation)=)[^&#\s\"]*")
# Atoms that carry what the client chose: the request line, path, query, referrer, user agent.
CLIENT_ATOMS = ("r", "R", "U", "Uq", "q", "f", "a")


def scrub(text: str) -> str:
    """A client-chosen string as the log may show it: secrets hidden, one line, quotes escaped."""
    text = SECRET_PARAM.sub(lambda m: m.group(1) + HIDDEN, SECRET_PATH.sub(lambda m: m.group(1) + HIDDEN, text))
    return "".join(f"\\x{ord(c):02x}" if ord(c) < 0x20 or ord(c) == 0x7f or c in "\"\\" else c for c in text)


class AccessFilter(logging.Filter):
    """On Hypercorn's access logger: scrub the request's atoms before any format sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args
        if isinstance(atoms, dict):
            for atom in CLIENT_ATOMS:
                value = dict.get(atoms, atom)
                if isinstance(value, str):
                    atoms[atom] = scrub(value)
        return True


def scrub_access_log() -> None:
    """Idempotent; called by create_app, so every way of serving the app gets it."""
    logger = logging.getLogger("hypercorn.access")
    if not any(isinstance(each, AccessFilter) for each in logger.filters):
        logger.addFilter(AccessFilter())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
        }
        if record.name == "hypercorn.access" and isinstance(record.args, dict):
            atoms = record.args
            entry["message"] = "request"
            for atom, name in ACCESS_FIELDS.items():
                value = atoms.get(atom)
                if value not in (None, "-", ""):
                    entry[name] = int(value) if atom in {"s", "b"} and str(value).isdigit() else value
            entry["duration_ms"] = round(int(atoms.get("D", 0)) / 1000, 3)
        else:
            entry["message"] = record.getMessage()
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
