"""Logs as one JSON object a line, when asked for (HUDDLE_LOG_FORMAT=json, or `make run
LOGS=json`): Huddle's own lines, and Hypercorn's access and error logs through its
`--log-config json:app/logging.json`. Access lines carry the request as fields, not a sentence."""
from __future__ import annotations

import json
import logging
import time

# Hypercorn's access-log atoms worth a field of their own.
ACCESS_FIELDS = {"h": "remote", "m": "method", "U": "path", "q": "query", "s": "status", "b": "bytes",
                 "a": "user_agent", "H": "protocol"}


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
