# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run dev test migrate lock clean

$(VENV)/.base: requirements/base.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements/base.lock
	touch $@

$(VENV)/.dev: $(VENV)/.base requirements/dev.lock
	$(PIP) install -r requirements/dev.lock
	touch $@

migrate: $(VENV)/.base
	$(PY) -m app migrate

run: migrate  ## serve on http://127.0.0.1:8000 (SQLite under data/, in-process broker)
	$(VENV)/bin/hypercorn --config hypercorn.toml "app:create_app()"

dev: migrate  ## reload code and templates on change
	QUART_TEMPLATES_AUTO_RELOAD=true $(VENV)/bin/hypercorn --config hypercorn.toml --reload "app:create_app()"

test: $(VENV)/.dev
	$(PY) -m pytest $(PYTEST_ARGS)

lock:  ## re-resolve requirements/*.lock from pyproject.toml
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install -q -e .
	.lockvenv/bin/pip freeze --exclude-editable > requirements/base.lock
	.lockvenv/bin/pip install -q -e '.[dev]'
	.lockvenv/bin/pip freeze --exclude-editable > requirements/dev.lock
	rm -rf .lockvenv huddle.egg-info

clean:
	rm -rf $(VENV)
