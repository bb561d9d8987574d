# The catalog's two commands: `make run` and `make test`. Both install into .venv first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The PostgreSQL the suite also runs on (CI: the machine's server on 127.0.0.1:5432).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/catalog
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run test lint check-postgres worker bench bench-quick bench-smoke bench-instructions fuzz clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_sample
	$(BIN)/python manage.py ensure_admin
	@echo "Serving the catalog at http://127.0.0.1:$(PORT)/ (admin at /admin/). Ctrl-C stops it."
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# A Celery worker with beat (the periodic sync), for when CELERY_BROKER_URL is set (in .env or the environment).
worker: install
	@$(BIN)/python -c "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.base'); django.setup(); from django.conf import settings; raise SystemExit(0 if settings.CELERY_BROKER_URL else 'Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0) in .env first; without it tasks run in-process and need no worker.')"
	$(BIN)/celery -A config worker --beat --loglevel=INFO

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	@export SECRET_KEY=lint ALLOWED_HOSTS=lint; \
	if docker compose version >/dev/null 2>&1; then docker compose config --quiet && echo "docker compose config: ok"; \
	elif command -v docker-compose >/dev/null 2>&1; then docker-compose config -q && echo "docker-compose config: ok"; \
	else echo "docker compose config: skipped (no docker compose client here)"; fi

# The whole suite twice: on PostgreSQL + Redis when they answer (CI requires them), and on the embedded SQLite.
test: lint
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(TEST_DATABASE_URL)'.rsplit('/',1)[0] + '/postgres', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== tests on PostgreSQL ($(TEST_DATABASE_URL)) and Redis ($(TEST_REDIS_URL)) =="; \
		DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -q -p no:cacheprovider || exit 1; \
	elif [ -n "$$CI" ]; then echo "PostgreSQL at $(TEST_DATABASE_URL) does not answer; CI needs it" >&2; exit 1; \
	else echo "== PostgreSQL at $(TEST_DATABASE_URL) does not answer: its run is skipped (CI runs it) =="; fi
	@echo "== tests on the embedded SQLite =="
	env -u DATABASE_URL $(BIN)/pytest -q -p no:cacheprovider -m "not postgres"

# The parsers' property tests (hypothesis) with 50 times their examples: a long run, not part of `make test`.
fuzz: install
	FUZZ_SCALE=$${FUZZ_SCALE:-50} $(BIN)/pytest -q -p no:cacheprovider tests/unit

# The benchmark (benchmarks/README.md): PostgreSQL and Redis on 127.0.0.1, the corpus beside the checkout.
# It drops and recreates the database in BENCH_DATABASE_URL (default catalog_bench).
bench: install
	$(BIN)/python -m benchmarks.run --sizes 10000,100000

bench-quick: install
	$(BIN)/python -m benchmarks.run --sizes 10000

# N=500 and 1,000, a few requests: CI runs it so that the benchmark keeps working.
bench-smoke: install
	$(BIN)/python -m benchmarks.run --smoke

# Instructions per request, counted by valgrind on the catalog the last bench left (the machine's speed does not
# move them): make bench-instructions ARGS='--root ../older-checkout "list page"'
bench-instructions: install
	$(BIN)/python -m benchmarks.instructions $(ARGS)

clean:
	rm -rf $(VENV) data/staticfiles .pytest_cache
