# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run dev test lint migrate lock clean

# Installs are plain pip with hash checking, so a fresh machine needs only python3.
$(VENV)/.base: requirements/base.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes -r requirements/base.lock
	touch $@

$(VENV)/.dev: $(VENV)/.base requirements/dev.lock
	$(PIP) install --require-hashes -r requirements/dev.lock
	touch $@

migrate: $(VENV)/.base
	$(PY) -m app migrate

# `make run PORT=8080 HOST=0.0.0.0`: HUDDLE_BASE_URL follows unless you set it yourself.
HOST ?= 127.0.0.1
PORT ?= 8000
export HUDDLE_BASE_URL ?= http://$(HOST):$(PORT)

run: migrate  ## serve on http://$(HOST):$(PORT) (SQLite under data/, in-process broker)
	$(VENV)/bin/hypercorn --config hypercorn.toml --bind $(HOST):$(PORT) "app:create_app()"

dev: migrate  ## reload code and templates on change
	QUART_TEMPLATES_AUTO_RELOAD=true $(VENV)/bin/hypercorn --config hypercorn.toml --bind $(HOST):$(PORT) \
		--reload "app:create_app()"

test: lint  ## the linter, then every test
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev  ## ruff, configured in pyproject.toml
	$(VENV)/bin/ruff check app tests tools bench

# Hashed, universal locks (every OS, Python 3.11+) from PyPI. Pins already in the lock files are
# kept unless pyproject.toml needs otherwise; `make lock LOCK_ARGS=--upgrade` moves everything to
# the newest allowed versions, `LOCK_ARGS="--upgrade-package quart"` just one.
# base.lock is resolved first; dev.lock is constrained to it, so both share every version.
LOCK_TOOL ?= uv==0.13.9
LOCK_ARGS ?=
UV_COMPILE = .lockvenv/bin/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock"

lock:  ## re-resolve requirements/*.lock from pyproject.toml
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install -q $(LOCK_TOOL)
	$(UV_COMPILE) -o requirements/base.lock $(LOCK_ARGS)
	$(UV_COMPILE) --extra dev -c requirements/base.lock -o requirements/dev.lock $(LOCK_ARGS)
	rm -rf .lockvenv

clean:
	rm -rf $(VENV)
