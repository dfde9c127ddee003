# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run dev cluster test lint migrate lock clean bench

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
# `make run LOGS=json`: access, error and app logs as one JSON object a line.
LOGS ?= text
ifeq ($(LOGS),json)
export HUDDLE_LOG_FORMAT := json
LOG_ARGS := --log-config json:app/logging.json
endif

run: migrate  ## serve on http://$(HOST):$(PORT) (SQLite under data/, in-process broker)
	$(VENV)/bin/hypercorn --config hypercorn.toml $(LOG_ARGS) --bind $(HOST):$(PORT) "app:create_app()"

dev: migrate  ## reload code and templates on change
	QUART_TEMPLATES_AUTO_RELOAD=true $(VENV)/bin/hypercorn --config hypercorn.toml --bind $(HOST):$(PORT) \
		--reload "app:create_app()"

# Two workers against the local PostgreSQL and Redis (127.0.0.1), to try scaling out: the same
# code, two variables. The database is created and migrated if need be.
CLUSTER_DB     ?= postgres://postgres@127.0.0.1:5432/huddle
CLUSTER_REDIS  ?= redis://127.0.0.1:6379/0
CLUSTER_WORKERS ?= 2
# Independent workers on one listening socket (app/supervisor.py): one that dies is replaced and
# the others keep serving (Hypercorn's own --workers would stop them all).
cluster: $(VENV)/.base  ## serve with $(CLUSTER_WORKERS) workers on PostgreSQL + Redis
	HUDDLE_DATABASE_URL=$(CLUSTER_DB) $(PY) -m app migrate
	HUDDLE_DATABASE_URL=$(CLUSTER_DB) HUDDLE_BROKER_URL=$(CLUSTER_REDIS) $(PY) -m app.supervisor \
		--workers $(CLUSTER_WORKERS) --bind $(HOST):$(PORT) --config hypercorn.toml $(LOG_ARGS) "app:create_app()"

bench: $(VENV)/.dev  ## fan-out and pages against the bare baselines (minutes; writes README's table and docs/bench.png)
	$(PY) bench/run.py $(BENCH_ARGS)

# The tests run in parallel (pytest-xdist): TEST_WORKERS processes, one per core by default, each
# test file whole on one of them (its shared servers and browser start once). Each worker has its
# own SQLite files, PostgreSQL databases, Redis keys and ports. `make test TEST_WORKERS=0` runs in
# one process; PYTEST_ARGS adds to the command (`PYTEST_ARGS="-x tests/test_chat.py"`).
TEST_WORKERS ?= auto
test: lint  ## the linter, then every test
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

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
