# ParkingOps: `make run` for the demo, `make test` for the suite. Only Python 3.11+ and make needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
FAKE_PLATFORM_PORT ?= 9100
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run serve test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

.env:
	cp .env.example .env

# The demo also serves the fake platform (PLATFORM_API_BASE points at it), listing the demo's
# payments and one never pushed, so whitelist changes show 已同步 and reconciliation has a
# difference to find; it also plays the parks' gates, pushing live entries, pay orders and
# exits to the server every 20 seconds. A job worker (big imports and exports, reconciliations) and the
# scheduler (nightly reconciliation, whitelist sync, pruning) run beside the server, on the
# same SQLite database; all of them stop with the server.
run: export PLATFORM_API_BASE = http://127.0.0.1:$(FAKE_PLATFORM_PORT)/
run: install .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_roles
	$(BIN)/python manage.py seed_demo
	@$(BIN)/python manage.py fake_platform --demo --port $(FAKE_PLATFORM_PORT) \
		--push-to http://127.0.0.1:$(PORT) --every 20 & fake=$$!; \
	$(BIN)/python manage.py db_worker --no-reload --verbosity 0 & worker=$$!; \
	$(BIN)/python manage.py run_scheduler > /dev/null & scheduler=$$!; \
	trap 'kill $$fake $$worker $$scheduler 2>/dev/null' EXIT INT TERM; \
	sleep 2; \
	{ $(BIN)/python manage.py sync_whitelist > /dev/null 2>&1 || echo "Whitelist sync: see the admin."; } && \
	$(BIN)/python manage.py demo_admin --port $(PORT) && \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Production: gunicorn (parkingops/gunicorn.py) with DEBUG off, after migrations and static
# files. Needs SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL (PostgreSQL) in the environment.
serve: install
	DEBUG=0 $(BIN)/python manage.py migrate --noinput
	DEBUG=0 $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	DEBUG=0 $(BIN)/python -m gunicorn -c python:parkingops.gunicorn parkingops.wsgi

# Without Chromium the browser tests (what staff see, parkingops/tests/browser.py) skip: say so
# first, and pytest says it again at the end.
test: install
	@command -v chromium >/dev/null || [ -n "$$PARKINGOPS_CHROMIUM" ] || \
		echo "No Chromium on this machine: the browser tests will be skipped" \
			"(apt-get install chromium fonts-wqy-microhei, or set PARKINGOPS_CHROMIUM)."
	$(BIN)/python -m pytest

# Benchmarks against gunicorn + PostgreSQL on this machine (see bench/run.py); a few minutes.
bench: install
	@command -v wrk >/dev/null || { echo "make bench drives its HTTP figures with wrk:" \
		"apt-get install wrk (see docs/development.md)."; exit 1; }
	@pg_isready -q -h 127.0.0.1 -p 5432 || \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	$(BIN)/python bench/run.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* .pytest_cache .hypothesis
