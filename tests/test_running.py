"""Running it: where it logs, and on which address."""
from __future__ import annotations

import logging
import subprocess

from app import create_app
from app.config import ROOT
from app.runtime import Runtime


def test_huddle_logs_at_info_by_default_so_the_outbox_line_shows(settings):
    create_app(settings)
    mail = logging.getLogger("huddle.mail")
    assert mail.isEnabledFor(logging.INFO)
    record = mail.makeRecord("huddle.mail", logging.INFO, __file__, 1, "mail written to %s", ("data/outbox",), None)
    handler = logging.getLogger("huddle").handlers[0]
    assert "[INFO] huddle.mail: mail written to data/outbox" in handler.format(record)


def test_make_run_serves_on_the_port_asked_for_and_the_base_url_follows():
    plan = subprocess.run(["make", "-n", "run", "PORT=8080"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "--bind 127.0.0.1:8080" in plan
    env = subprocess.run(["make", "-s", "-f", "-", "show"], cwd=ROOT, capture_output=True, text=True,
                         input="include Makefile\nshow:\n\t@echo $$HUDDLE_BASE_URL\n",
                         env={"PATH": "/usr/bin:/bin", "PORT": "8080"}).stdout
    assert env.strip() == "http://127.0.0.1:8080"


async def test_health_and_readiness_for_load_balancers(app, client, monkeypatch):
    assert (await client.get("/healthz")).status_code == 200
    assert await (await client.get("/readyz")).get_data(as_text=True) == "ok\n"

    async def broker_down() -> bool:
        return False

    monkeypatch.setattr(Runtime.of(app).broker, "ping", broker_down, raising=False)
    response = await client.get("/readyz")
    assert response.status_code == 503 and "broker" in await response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "5"


async def test_readiness_says_when_the_database_is_down(client, monkeypatch):
    from tortoise import Tortoise

    def no_database(name):
        raise ConnectionError("gone")

    monkeypatch.setattr(Tortoise, "get_connection", no_database)
    response = await client.get("/readyz")
    assert response.status_code == 503 and "database" in await response.get_data(as_text=True)
