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


def test_the_access_log_hides_secrets_and_keeps_one_line_per_request(tmp_path):
    """On the real server's plain access log: a %0A in a path forges no line; reset and
    invitation tokens (in the path, the query and the referrer) are never written."""
    import urllib.error
    import urllib.request

    from tests.helpers.server import Server

    server = Server(tmp_path)
    try:
        requests = [
            ("/%0A127.0.0.1%20-%20-%20forged-line", {}),
            ("/password/reset/SECRET-RESET-TOKEN", {}),
            ("/join/SECRET-INVITE-TOKEN", {}),
            ("/register?invitation=SECRET-QUERY-TOKEN", {}),
            ("/static/css/huddle.css", {"Referer": f"{server.url}/password/reset/SECRET-REFERER-TOKEN",
                                        "User-Agent": 'quote " and \x7f'}),
        ]
        for path, headers in requests:
            try:
                urllib.request.urlopen(urllib.request.Request(server.url + path, headers=headers), timeout=5)
            except urllib.error.HTTPError:
                pass
    finally:
        server.stop()  # the log is complete once the server has exited
    log = (tmp_path / "server.log").read_text()
    lines = log.splitlines()
    assert not any(line.startswith("127.0.0.1 - - forged-line") for line in lines)
    assert any("\\x0a127.0.0.1 - - forged-line" in line for line in lines)
    assert "SECRET" not in log
    assert "GET /password/reset/[hidden] " in log and "GET /join/[hidden] " in log
    assert f'"{server.url}/password/reset/[hidden]"' in log  # the referrer


def test_scrub_escapes_control_characters_and_quotes():
    from app.logs import scrub

    assert scrub('GET /a\r\nb"c\\ HTTP/1.1') == 'GET /a\\x0d\\x0ab\\x22c\\x5c HTTP/1.1'
    assert scrub("/join/abc?x=1") == "/join/[hidden]?x=1"
    assert scrub("/register?next=/&invitation=abc&x=1") == "/register?next=/&invitation=[hidden]&x=1"


def test_json_access_lines_get_the_same_scrubbed_atoms():
    from app.logs import AccessFilter

    atoms = {"h": "10.0.0.1:5000", "m": "GET", "U": "/join/SECRET", "q": "invitation=SECRET&a=1", "s": "303",
             "b": "0", "a": "-", "H": "1.1", "D": 1000}
    entry = record("hypercorn.access", "%(h)s %(r)s", atoms)
    assert AccessFilter().filter(entry)
    line = json.loads(JsonFormatter().format(entry))
    assert line["path"] == "/join/[hidden]" and line["query"] == "invitation=[hidden]&a=1"
