# The commands people type. `make run` and `make test` are the two from the README.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
MANAGE := $(BIN)/python manage.py
# Reinstalls when the dependencies (pyproject.toml) or their locked versions and hashes (requirements.lock) change.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)
# The lock's generator, in a venv of its own (var/lock-tools), so that it is never in the project's own venv or lock.
PIP_TOOLS := pip-tools==7.6.2

.PHONY: run serve prod backup restore test test-all lint format syslibs setup lock messages clean e2e-deps

## run: set everything up, load the demo data, start a worker (with beat) and the web server
run:
	@# One `make run` per checkout: a second one at once would race the first's install and migrations.
	@mkdir -p var
	@if command -v flock >/dev/null; then \
	  flock -n -E 75 var/run.lock $(MAKE) --no-print-directory serve; status=$$?; \
	  if [ $$status = 75 ]; then echo "PIF is already running from this folder (another 'make run' holds var/run.lock): stop it first, or use it."; fi; \
	  exit $$status; \
	else $(MAKE) --no-print-directory serve; fi

# `make run` without the lock (its body)
serve: setup
	@mkdir -p var
	@export DEBUG=$${DEBUG:-true} PORT=$(PORT); set -e; \
	$(MANAGE) migrate --noinput; \
	$(MANAGE) demo; \
	$(BIN)/celery -A pif worker -B --concurrency 2 --loglevel INFO \
	    --schedule var/celerybeat-schedule --logfile var/worker.log --pidfile= & \
	WORKER=$$!; \
	trap 'kill $$WORKER 2>/dev/null; wait $$WORKER 2>/dev/null' EXIT INT TERM; \
	echo ""; \
	echo "  PIF is starting on http://127.0.0.1:$(PORT)  (health: /healthz, API docs: /api/docs/)"; \
	echo "  Demo logins, password 'demo': importer, importer2, inspector, officer, supervisor, lab, exporter, customs"; \
	echo "  Celery worker + beat log: var/worker.log"; \
	echo ""; \
	$(MANAGE) runserver 127.0.0.1:$(PORT)

## prod: production: settings from the environment only (checked first), migrate, collectstatic, then gunicorn,
## a Celery worker and beat, logs on stdout; Ctrl-C or SIGTERM stops the three (see README, docs/operations.md)
prod: setup
	@PORT=$(PORT) exec $(BIN)/python -m pif.prod

## backup: BACKUP=FILE: the database and the private files in one tar archive, with a manifest of checksums
backup: setup
	@test -n "$(BACKUP)" || { echo "usage: make backup BACKUP=path/to/pif-backup.tar"; exit 2; }
	$(MANAGE) backup "$(BACKUP)"

## restore: BACKUP=FILE: into an empty database and an empty private folder, then verify the audit trail
restore: setup
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=path/to/pif-backup.tar"; exit 2; }
	$(MANAGE) restore "$(BACKUP)"

## test: the whole suite on the embedded default (SQLite, filesystem broker), with the browser tests when
## Chromium is present (apt-get install chromium)
test: setup e2e-deps
	$(BIN)/pytest -m "not integration and not e2e" $(ARGS)
	@# The browser tests in a session of their own: their live server needs transactional tests, whose
	@# database flush must not meet the rest of the suite's set-up.
	@if [ -x "$${PIF_CHROMIUM:-/usr/bin/chromium}" ] || [ "$$PIF_E2E" = required ]; then \
	  $(BIN)/pytest tests/e2e $(ARGS); \
	else echo "Browser tests left out: no Chromium at $${PIF_CHROMIUM:-/usr/bin/chromium} (apt-get install chromium)."; fi

## e2e-deps: axe-core for the browser tests, from npm (only where Chromium is installed)
e2e-deps:
	@if [ -x "$${PIF_CHROMIUM:-/usr/bin/chromium}" ] && [ ! -f tests/e2e/node_modules/axe-core/axe.min.js ]; then \
	  command -v npm >/dev/null || { echo "npm is needed for the browser tests (apt-get install npm)"; exit 1; }; \
	  npm ci --prefix tests/e2e --no-audit --no-fund --silent; \
	fi

## lint: ruff lint and format check
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## messages: extract and compile the translations
messages: setup
	DEBUG=true $(MANAGE) makemessages -l fr --ignore=.venv --ignore=var --ignore=tests --ignore=bench
	DEBUG=true $(MANAGE) compilemessages --ignore=.venv

setup: syslibs $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# Every package at its locked version, each file checked against its hash; then the project itself.
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

## lock: after editing pyproject.toml's dependencies: regenerate requirements.lock (with the dev extra: make setup)
## and requirements-prod.lock (the same versions without it: deploy/Dockerfile), versions and hashes; keeps the
## other pins (ARGS=--upgrade, or ARGS="--upgrade-package NAME", moves them)
LOCK_FLAGS := --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links
lock:
	@test -x var/lock-tools/bin/python || $(PYTHON) -m venv var/lock-tools
	@var/lock-tools/bin/python -m pip install --quiet $(PIP_TOOLS)
	CUSTOM_COMPILE_COMMAND="make lock" var/lock-tools/bin/pip-compile $(LOCK_FLAGS) --extra dev \
	    --output-file requirements.lock $(ARGS) pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" var/lock-tools/bin/pip-compile $(LOCK_FLAGS) --constraint requirements.lock \
	    --output-file requirements-prod.lock pyproject.toml

## syslibs: WeasyPrint needs Pango, and HarfBuzz's subsetter to be fast; installed with apt where we can
syslibs:
	@has() { $(PYTHON) -c "import ctypes.util, sys; sys.exit(0 if ctypes.util.find_library('$$1') else 1)"; }; \
	missing=""; \
	has pango-1.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	has harfbuzz-subset || missing="$$missing libharfbuzz-subset0"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "Installing system libraries:$$missing"; \
	    (apt-get install -y -q $$missing >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q $$missing >/dev/null)) ; \
	  elif command -v apt-get >/dev/null && command -v sudo >/dev/null; then \
	    sudo apt-get update -q && sudo apt-get install -y -q $$missing; \
	  fi; \
	  has pango-1.0 || { echo "Missing system library Pango: install the package libpango-1.0-0 (Debian/Ubuntu) or pango (Homebrew)."; exit 1; }; \
	  has harfbuzz-subset || echo "Warning: libharfbuzz-subset0 is missing: PDF rendering will be about four times slower."; \
	fi

clean:
	rm -rf var/broker var/test .pytest_cache .ruff_cache
