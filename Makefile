# soc-observatory: make run (the demo observatory), make test, make check, make bench.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The newest python3.1x that actually runs (pyenv shims that exist but are not active are skipped).
PYTHON ?= $(shell for v in 3.14 3.13 3.12 3.11; do \
	for c in python$$v $$HOME/.pyenv/versions/$$v*/bin/python$$v /usr/local/bin/python$$v /usr/bin/python$$v; do \
	  if [ -x "$$(command -v $$c 2>/dev/null)" ] && $$c -c 'import sys' >/dev/null 2>&1; then echo $$c; exit 0; fi; \
	done; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VAR ?= var
CATALOG := $(VAR)/demo-catalog
STAC_PORT ?= 8765
API_PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help venv run demo-catalog test check lint typecheck bench notebooks lock clean vendor browser postgres

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# One pinned lock (uv.lock, universal: every supported Python and platform) for the venv, CI and the
# docker images. uv itself is pinned and installed into the venv with pip; nothing else is resolved
# at install time, so a fresh clone installs today what it installed the day the lock was made.
UV_VERSION := 0.13.9
UV_ENV := UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1
EXTRAS := --extra test --extra dev --extra bench

$(STAMP): pyproject.toml uv.lock
	@if [ -z "$(PYTHON)" ]; then echo "No python3.11+ found: install Python >= 3.11 (or set PYTHON=/path/to/python3.x)"; exit 1; fi
	@echo "==> building $(VENV) with $(PYTHON) from uv.lock"
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	[ -x $(BIN)/uv ] && [ "$$($(BIN)/uv --version | cut -d' ' -f2)" = "$(UV_VERSION)" ] || \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV_ENV) $(BIN)/uv sync --frozen --python $(BIN)/python $(EXTRAS)
	@touch $(STAMP)

venv: $(STAMP)  ## build the virtual environment and install the project

$(CATALOG)/catalog.json: | $(STAMP)
	$(BIN)/socobs demo-catalog $(CATALOG)

demo-catalog: $(CATALOG)/catalog.json  ## generate the synthetic demo STAC catalog (once)

run: $(STAMP)  ## from nothing to a running observatory: demo catalog, STAC API, ingestion, indicators, RothC, API on :$(API_PORT)
	$(BIN)/socobs demo --var $(VAR) --port $(STAC_PORT) --api-port $(API_PORT)

# The dashboard's browser tests drive Debian's chromium (never a browser downloaded by a tool).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser:  ## install Debian's chromium for the dashboard's browser tests (when absent)
	@if [ -x $(CHROMIUM) ]; then echo "$(CHROMIUM) is there"; else \
	  $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium; fi

# The registry's tests run on SQLite and on a throwaway PostgreSQL server they start themselves
# (tests/support/postgres.py) from Debian's binaries; `make test` installs them when absent.
postgres:  ## install Debian's PostgreSQL server binaries for the registry's tests (when absent)
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then echo "PostgreSQL is there"; else \
	  $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y --no-install-recommends postgresql; fi

# Third-party browser assets, pinned by web/package-lock.json, copied with their licences into
# observatory_api/static/vendor (and axe-core into tests/browser/vendor). The copies are committed:
# CI and a running observatory never reach npm.
vendor:  ## re-vendor the dashboard's JS/CSS libraries from web/package-lock.json (needs npm)
	cd web && npm ci --ignore-scripts --no-audit --no-fund && node vendor.mjs

# Two pytest workers (pytest-xdist), one test file per worker at a time (module fixtures stay
# shared): much of the suite waits on real servers and subprocesses. TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

test: $(STAMP) browser postgres  ## run the test suite (TEST_WORKERS=2 by default; PYTEST_ARGS passes options)
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff, the formatter, and the import contracts (layering; pyproject [tool.importlinter])
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

lock: $(STAMP)  ## re-resolve uv.lock (keeps existing pins; UPGRADE=1 to move them) and derive docker/requirements.lock
	$(UV_ENV) $(BIN)/uv lock --python $(BIN)/python $(if $(UPGRADE),--upgrade,)
	$(UV_ENV) $(BIN)/uv export --frozen --no-dev --no-emit-project --format requirements-txt \
	  --python $(BIN)/python -o docker/requirements.lock --quiet
	$(UV_ENV) $(BIN)/uv sync --frozen --python $(BIN)/python $(EXTRAS)
	@touch $(STAMP)

notebooks: $(STAMP)  ## execute notebooks/*.py (nbclient, offline) and write the .ipynb with their outputs (figures); NOTEBOOK_ARGS='--store URI --registry DIR' for another store than the small demo one (built once in var/notebooks)
	$(BIN)/python -m tests.notebooks.execute $(NOTEBOOK_ARGS)

check: lint typecheck test  ## what CI does: ruff, mypy, tests

bench: $(STAMP)  ## benchmarks: ratios measured side by side in one run
	$(BIN)/python -m tests.benchmarks $(BENCH_ARGS)

clean:  ## remove the environment and generated data
	rm -rf $(VENV) $(VAR) .pytest_cache .mypy_cache .ruff_cache
