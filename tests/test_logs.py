"""JSON logs, when asked for: one object a line, access lines with fields, tracebacks inside."""
from __future__ import annotations

import json
import logging
import subprocess
import sys

from app.config import ROOT
from app.logs import JsonFormatter


def record(name: str, message, args=None, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, message, args, exc_info)


def test_an_access_line_is_one_object_with_the_request_as_fields():
    atoms = {"h": "10.0.0.1:5000", "m": "GET", "U": "/chat/1", "q": "", "s": "200", "b": "2440",
             "a": 'agent "with quotes"\nand a newline', "H": "1.1", "D": 31250}
    line = JsonFormatter().format(record("hypercorn.access", "%(h)s %(r)s", atoms))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["method"] == "GET" and entry["path"] == "/chat/1" and entry["status"] == 200
    assert entry["duration_ms"] == 31.25 and entry["user_agent"] == 'agent "with quotes"\nand a newline'
    assert "query" not in entry


def test_an_error_keeps_its_traceback_inside_the_object():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        line = JsonFormatter().format(record("huddle.errors", "Unhandled error on %s", ("GET /",),
                                             exc_info=sys.exc_info()))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "Unhandled error on GET /" and "RuntimeError: boom" in entry["error"]


def test_the_log_config_file_loads_and_the_app_logs_json_when_asked(tmp_path):
    script = (
        "import json, logging.config; logging.config.dictConfig(json.load(open('app/logging.json')));"
        "from app import create_app; from app.config import Settings;"
        f"create_app(Settings(data_dir=__import__('pathlib').Path(r'{tmp_path}'), secret_key='x'));"
        "logging.getLogger('huddle').warning('hello %s', 'there');"
        "logging.getLogger('hypercorn.error').info('from hypercorn')"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
                          env={"HUDDLE_LOG_FORMAT": "json", "PATH": "/usr/bin:/bin"})
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert {"logger": "huddle", "message": "hello there"}.items() <= lines[0].items()
    assert lines[1]["logger"] == "hypercorn.error"
