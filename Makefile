# The two commands a new developer needs are `make run` and `make test`; the rest are their parts.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := FLASK_APP=wsgi.py $(BIN)/flask
PYTEST := $(BIN)/python -m pytest
INSTALLED := $(VENV)/.installed
ASSETS := static/dist/portal.css
# Two workers fit the 2-core CI machine; the browser tests run on their own afterwards.
WORKERS ?= 2

.PHONY: run test install assets lint format test-sqlite test-postgres test-e2e bench clean

run: install assets
	$(FLASK) db upgrade
	@if [ ! -f instance/.demo-seeded ]; then $(FLASK) demo seed && touch instance/.demo-seeded; \
	else echo "Demo accounts were created on the first run; '$(FLASK) demo seed' lists them again."; fi
	@echo "Open http://127.0.0.1:5000 and sign in with a demo account (password: see README)."
	@# One outbox worker beside the web server; it stops when the server does.
	@$(FLASK) notifications work & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install assets lint test-sqlite test-postgres test-e2e

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

assets: $(ASSETS)

$(ASSETS): node_modules/.package-lock.json $(wildcard static/src/*)
	npm run --silent build

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test-sqlite: install assets
	PORTAL_TEST_DB=sqlite $(PYTEST) -n $(WORKERS) --ignore=tests/e2e

test-postgres: install assets
	PORTAL_TEST_DB=postgresql $(PYTEST) -n $(WORKERS) --ignore=tests/e2e

test-e2e: install assets
	PORTAL_TEST_DB=postgresql $(PYTEST) tests/e2e

bench: install assets
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) node_modules static/dist .pytest_cache .ruff_cache
