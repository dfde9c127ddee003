"""Settings: declared once (app/config.py), read from HUDDLE_* only by Settings.from_env(), every one
documented in README.md's Configuration table, and importing the app reads no environment."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import ROOT, Settings, SettingsError

# Read by logging (app/__init__.py), before there are any settings.
READ_BY_LOGGING = {"HUDDLE_LOG_FORMAT"}


def readme_table() -> dict[str, str]:
    """README.md's Configuration table: each variable it names, with its Default cell
    ("`HUDDLE_X_PER_USER` / `_PER_IP` | 5 / 30" names two, with a default each)."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    table = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        names = re.findall(r"`([A-Z_][A-Z0-9_]*)`", cells[0]) if len(cells) >= 3 else []
        if not names:
            continue
        defaults = [part.strip() for part in cells[1].split(" / ")]
        if len(defaults) != len(names):
            defaults = [cells[1]] * len(names)
        first = names[0]
        for name, default in zip(names, defaults, strict=True):
            if name.startswith("_"):  # `_PER_IP` after `HUDDLE_LOGIN_FAILURES_PER_USER`
                name = "_".join(first.split("_")[: -name.count("_")]) + name
            table[name] = default
    return table


def test_the_readme_documents_every_setting_and_nothing_else():
    documented = set(readme_table()) - READ_BY_LOGGING
    fields = {Settings.env_name(name) for name in Settings.model_fields}
    assert documented - fields == set(), "README.md names variables that are not Settings fields"
    assert fields - documented == set(), "Settings fields missing from README.md's Configuration table"
    for name in READ_BY_LOGGING:
        assert name in (ROOT / "app" / "__init__.py").read_text()


def test_the_readme_gives_the_defaults_the_code_has():
    table = readme_table()
    checked = 0
    for name, field in Settings.model_fields.items():
        default, cell = field.default, table[Settings.env_name(name)]
        if isinstance(default, bool) or default is None:
            continue
        if isinstance(default, int | float):
            number = re.match(r"[\d.]+", cell)
            assert number and float(number.group()) == default, f"{Settings.env_name(name)}: README says {cell}"
            checked += 1
        elif isinstance(default, str) and default and cell.startswith("`"):
            assert cell == f"`{default}`", f"{Settings.env_name(name)}: README says {cell}, the code {default!r}"
            checked += 1
    assert checked >= 15


def sample(name: str, field, tmp_path: Path) -> tuple[str, object]:
    """A value unlike the default, as it would be written in the environment and as it is read."""
    special = {
        "registration": ("closed", "closed"),
        "base_url": ("https://chat.example.com/", "https://chat.example.com"),
        "trusted_hosts": ("a.example, b.example:8443,", ("a.example", "b.example:8443")),
        "data_dir": (str(tmp_path), tmp_path),
        "cookie_secure": ("false", False),
        "templates_auto_reload": ("true", True),
        "push_allowed_origins": ("http://127.0.0.1:8081, https://relay.example",
                                 ("http://127.0.0.1:8081", "https://relay.example:443")),
        "push_preview": ("off", False),
        "preview_allowed_hosts": ("intranet.example:8080", "intranet.example:8080"),
        "link_previews": ("off", False),
    }
    if name in special:
        return special[name]
    if field.annotation in (int, "int"):
        return str(field.default + 7), field.default + 7
    if field.annotation in (float, "float"):
        return str(field.default + 1.5), field.default + 1.5
    return f"value-for-{name}", f"value-for-{name}"


def test_from_env_reads_every_field_from_its_variable_and_settings_alone_reads_none(monkeypatch, tmp_path):
    expected = {}
    for name, field in Settings.model_fields.items():
        raw, value = sample(name, field, tmp_path)
        monkeypatch.setenv(Settings.env_name(name), raw)
        expected[name] = value
    settings = Settings.from_env()
    assert {name: getattr(settings, name) for name in expected} == expected
    assert Settings() == Settings.model_construct()  # the defaults, whatever the environment says


def test_empty_variables_count_as_unset(monkeypatch):
    for name in Settings.model_fields:
        monkeypatch.setenv(Settings.env_name(name), "")
    assert Settings.from_env() == Settings()
    assert Settings.from_env().cookie_secure is None


def test_a_value_that_does_not_fit_is_refused_naming_its_variable(monkeypatch):
    monkeypatch.setenv("HUDDLE_POSTS_PER_10_SECONDS", "lots")
    monkeypatch.setenv("HUDDLE_REGISTRATION", "bogus")
    with pytest.raises(SettingsError) as refused:
        Settings.from_env()
    assert "HUDDLE_POSTS_PER_10_SECONDS is 'lots'" in str(refused.value)
    assert "HUDDLE_REGISTRATION is 'bogus': use invite, open or closed." in str(refused.value)


@pytest.mark.parametrize("value", ["127.0.0.1", "intranet:80/path", "user@intranet:80", "a:80,:443"])
def test_a_link_preview_host_without_its_port_is_refused_at_start(monkeypatch, value):
    monkeypatch.setenv("HUDDLE_PREVIEW_ALLOWED_HOSTS", value)
    with pytest.raises(SettingsError) as refused:
        Settings.from_env()
    assert "HUDDLE_PREVIEW_ALLOWED_HOSTS: not a host:port" in str(refused.value)
    monkeypatch.setenv("HUDDLE_PREVIEW_ALLOWED_HOSTS", "127.0.0.1:8080, Intranet.Example:80")
    assert Settings.from_env().preview_allowed_hosts == "127.0.0.1:8080, Intranet.Example:80"


def test_settings_take_keywords_and_replace_checks_them(tmp_path):
    settings = Settings(data_dir=tmp_path, broker_url="redis://127.0.0.1:6379/0", base_url="http://x.example/")
    assert settings.data_dir == tmp_path and settings.base_url == "http://x.example"
    assert settings.replace(registration="open").registration == "open"
    assert settings.replace(registration="open").data_dir == tmp_path
    with pytest.raises(ValueError, match="use invite, open or closed"):
        settings.replace(registration="opne")
    with pytest.raises(ValueError):
        Settings(no_such_setting=1)
    assert "secret" not in repr(Settings(secret_key="secret"))


def test_importing_the_app_reads_no_environment_and_create_app_refuses_a_bad_value(tmp_path):
    script = """
import app.config, app
from app import create_app
try:
    create_app()
except ValueError as error:
    print("refused:", error)
try:
    app.config.TORTOISE_ORM
except ValueError as error:
    print("aerich refused:", error)
"""
    env = {"PATH": "/usr/bin:/bin", "HUDDLE_REGISTRATION": "bogus", "HUDDLE_DATA_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "refused: HUDDLE_REGISTRATION is 'bogus': use invite, open or closed.",
        "aerich refused: HUDDLE_REGISTRATION is 'bogus': use invite, open or closed.",
    ]


def test_aerich_reads_the_tortoise_config_from_the_environment_when_it_asks(monkeypatch, tmp_path):
    from aerich.utils import load_tortoise_config

    monkeypatch.chdir(ROOT)  # aerich finds [tool.tortoise] in ./pyproject.toml
    monkeypatch.setenv("HUDDLE_DATABASE_URL", f"sqlite://{tmp_path / 'other.db'}")
    config = load_tortoise_config()
    assert config["connections"]["default"] == f"sqlite://{tmp_path / 'other.db'}"
    assert config["apps"]["models"]["models"] == ["app.models", "aerich.models"]
